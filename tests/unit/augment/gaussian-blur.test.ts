import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../../operators/carla/generate/seeded-random.ts'
import { gaussianBlur, gaussianKernel } from '../../../operators/augment/gaussian-blur.ts'
import type { RawImage } from '../../../operators/augment/pixel-ops.ts'
import { resizeWindow } from '../../../operators/augment/resize-window.ts'

const image = (width: number, height: number, channels: number, value: (i: number) => number): RawImage => ({
  data: Uint8Array.from({ length: width * height * channels }, (_, i) => value(i)),
  width,
  height,
  channels,
})

/** The Gaussian in floating point with the same taps (OpenCV's size rule) and replicated edges, before rounding. */
function exact(img: RawImage, sigma: number): Float64Array {
  const { width: W, height: H, channels: C, data } = img
  const r = (Math.round(sigma * 6 + 1) | 1) >> 1
  const g = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)))
  const total = g.reduce((s, v) => s + v, 0)
  const k = g.map((v) => v / total)
  const mid = new Float64Array(data.length)
  const out = new Float64Array(data.length)
  const clamp = (v: number, hi: number): number => Math.max(0, Math.min(hi, v))
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < C; c++) mid[(y * W + x) * C + c] = k.reduce((s, w, i) => s + w * data[(y * W + clamp(x + i - r, W - 1)) * C + c]!, 0)
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < C; c++) out[(y * W + x) * C + c] = k.reduce((s, w, i) => s + w * mid[(clamp(y + i - r, H - 1) * W + x) * C + c]!, 0)
  return out
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe('the Gaussian blur', () => {
  const rnd = seededRandom(11)
  const noise = image(53, 29, 3, () => Math.floor(rnd() * 256))

  for (const sigma of [0.3, 0.59, 1, 1.5, 3]) {
    it(`gives the same bytes in WebAssembly SIMD and TypeScript, within ±1 of the exact Gaussian (sigma ${sigma})`, () => {
      const simd = gaussianBlur(noise, sigma, { wasm: true }).data
      const ts = gaussianBlur(noise, sigma, { wasm: false }).data
      expect(Buffer.from(simd).equals(Buffer.from(ts))).toBe(true)
      expect(maxDiff(simd, exact(noise, sigma))).toBeLessThanOrEqual(1)
      expect(maxDiff(simd, noise.data)).toBeGreaterThan(0)
    })
  }

  it('keeps flat regions flat, also at full white, and blurs any channel count in TypeScript', () => {
    for (const v of [0, 77, 255])
      expect(
        gaussianBlur(
          image(20, 9, 3, () => v),
          1.5,
        ).data.every((x) => x === v),
      ).toBe(true)
    const gray = image(12, 5, 1, (i) => (i % 12 < 6 ? 0 : 200))
    expect(maxDiff(gaussianBlur(gray, 1).data, exact(gray, 1))).toBeLessThanOrEqual(1)
  })

  it('leaves an image alone when sigma is too small for any neighbour to get weight', () => {
    // sigma 0.2: one tap each side, but its Q15 weight rounds to 0 and the centre's would be 32768.
    expect(gaussianKernel(0.2)).toBeNull()
    for (const wasm of [true, false]) expect(Buffer.from(gaussianBlur(noise, 0.2, { wasm }).data).equals(Buffer.from(noise.data))).toBe(true)
  })

  it('refuses pixels that do not fill the image they claim to be', () => {
    expect(() => gaussianBlur({ data: new Uint8Array(10), width: 4, height: 4, channels: 3 }, 1)).toThrow(/10 bytes for a 4×4 RGB image/)
  })

  it("takes OpenCV's kernel size, round(6σ + 1) made odd", () => {
    expect(gaussianKernel(0.5)!.r).toBe(2)
    expect(gaussianKernel(1)!.r).toBe(3)
    expect(gaussianKernel(1.5)!.r).toBe(5)
    const k = gaussianKernel(1.2)!
    expect(k.weights[0]! + 2 * [...k.weights.slice(1)].reduce((s, v) => s + v, 0)).toBe(32768)
  })

  it("blurs the resize pass's borrowed output where it lies, and a copy of anything else", () => {
    const src = image(40, 20, 3, (i) => (i * 37) % 256)
    const resized = resizeWindow(src, { x: 3, y: 2, w: 30, h: 15 }, true, 40, 20, null, { borrow: true })
    const want = gaussianBlur(resizeWindow(src, { x: 3, y: 2, w: 30, h: 15 }, true, 40, 20, null), 1, { wasm: false }).data
    const inPlace = gaussianBlur(resized, 1, { borrow: true })
    expect(inPlace.data.byteOffset).toBe(resized.data.byteOffset)
    expect(Buffer.from(inPlace.data).equals(Buffer.from(want))).toBe(true)
    const copy = gaussianBlur(src, 1)
    expect(Buffer.from(copy.data).equals(Buffer.from(gaussianBlur(src, 1, { wasm: false }).data))).toBe(true)
  })
})
