import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../../operators/carla/generate/seeded-random.ts'
import type { RawImage } from '../../../operators/augment/pixel-ops.ts'
import { resizeWindow, toneOf, toneTable, type Tone, type Window } from '../../../operators/augment/resize-window.ts'
import { wasmResampler } from '../../../operators/augment/wasm-passes.ts'

const gray = (values: number[], width = values.length) => ({ data: Uint8Array.from(values), width, height: values.length / width, channels: 1 })

describe('the crop-flip-resize pass', () => {
  it('copies exactly when nothing changes, and mirrors exactly on a flip', () => {
    const img = gray([10, 20, 30, 40, 50, 60], 3)
    expect([...resizeWindow(img, { x: 0, y: 0, w: 3, h: 2 }, false, 3, 2, null).data]).toEqual([10, 20, 30, 40, 50, 60])
    expect([...resizeWindow(img, { x: 0, y: 0, w: 3, h: 2 }, true, 3, 2, null).data]).toEqual([30, 20, 10, 60, 50, 40])
  })

  it('aligns pixel centres when upsampling (bilinear, edges clamped)', () => {
    expect([...resizeWindow(gray([0, 255]), { x: 0, y: 0, w: 2, h: 1 }, false, 4, 1, null).data]).toEqual([0, 64, 191, 255])
  })

  it('takes the window in the flipped image', () => {
    // Flipped, [1, 2, 3, 4] reads [4, 3, 2, 1]; its window x = 1, w = 2 is [3, 2].
    expect([...resizeWindow(gray([1, 2, 3, 4]), { x: 1, y: 0, w: 2, h: 1 }, true, 2, 1, null).data]).toEqual([3, 2])
  })

  it('applies the tone to every output value', () => {
    const lut = toneTable(0.1, 1, null)!
    expect(lut[0]).toBe(26)
    expect(lut[250]).toBe(255)
    expect([...resizeWindow(gray([0, 100]), { x: 0, y: 0, w: 2, h: 1 }, true, 2, 1, toneOf(0.1, 1, null)).data]).toEqual([126, 26])
    expect(toneTable(0, 1, null)).toBeNull()
    expect(toneOf(0, 1, null)).toBeNull()
    const contrast = toneTable(0, 2, null)!
    expect([contrast[128], contrast[64], contrast[192]]).toEqual([128, 0, 255])
    expect(toneTable(0, 1, 2)![128]).toBe(Math.round(255 * (128 / 255) ** 2))
    expect(toneOf(0, 1, 2)?.kind).toBe('table')
    expect(toneOf(0.1, 1.2, null)?.kind).toBe('linear')
  })

  it('takes the table for a contrast whose fixed-point product would not fit in 32 bits', () => {
    const tone = toneOf(0, 20, null)!
    expect(tone.kind).toBe('table')
    // Mid-grey stays, one level off becomes 20 levels off: what the table says, in both passes.
    const img = rgb(4, 2, () => 120)
    for (const wasm of [true, false]) {
      const out = resizeWindow(img, { x: 0, y: 0, w: 4, h: 2 }, true, 8, 4, tone, { wasm }).data
      expect(out.every((v) => v === 0)).toBe(true)
      const near = resizeWindow(
        rgb(4, 2, () => 129),
        { x: 0, y: 0, w: 4, h: 2 },
        false,
        8,
        4,
        tone,
        { wasm },
      ).data
      expect(near.every((v) => v === 148)).toBe(true)
    }
  })

  it('reads a one-pixel-wide source as itself', () => {
    const img = { data: Uint8Array.from([9, 8, 7, 90, 80, 70]), width: 1, height: 2, channels: 3 }
    for (const wasm of [true, false]) {
      const out = resizeWindow(img, { x: 0, y: 0, w: 1, h: 2 }, false, 3, 2, null, { wasm }).data
      expect([...out]).toEqual([9, 8, 7, 9, 8, 7, 9, 8, 7, 90, 80, 70, 90, 80, 70, 90, 80, 70])
    }
  })
})

/** An RGB image from a per-value function. */
function rgb(width: number, height: number, value: (x: number, y: number, c: number) => number): RawImage {
  const data = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = value(x, y, c)
  return { data, width, height, channels: 3 }
}

/** Bilinear in floating point, the way the pass defines it (pixel centres aligned, edges clamped), before rounding. */
function exact(src: RawImage, win: Window, flip: boolean, outW: number, outH: number): Float64Array {
  const { width: W, height: H, channels: C, data } = src
  const at = (inSize: number, start: number, size: number, outSize: number, o: number, f: boolean): [number, number] => {
    const along = start + ((o + 0.5) * size) / outSize
    const s = Math.max(0, Math.min(inSize - 1, (f ? inSize - along : along) - 0.5))
    const i = Math.min(Math.floor(s), Math.max(0, inSize - 2))
    return [i, s - i]
  }
  const out = new Float64Array(outW * outH * C)
  for (let y = 0; y < outH; y++) {
    const [i, ty] = at(H, win.y, win.h, outH, y, false)
    const j = Math.min(i + 1, H - 1)
    for (let x = 0; x < outW; x++) {
      const [k, tx] = at(W, win.x, win.w, outW, x, flip)
      const l = Math.min(k + 1, W - 1)
      for (let c = 0; c < C; c++) {
        const p = (r: number, q: number): number => data[(r * W + q) * C + c]!
        const top = p(i, k) + (p(i, l) - p(i, k)) * tx
        const bottom = p(j, k) + (p(j, l) - p(j, k)) * tx
        out[(y * outW + x) * C + c] = top + (bottom - top) * ty
      }
    }
  }
  return out
}

/** The pass as it was before the fixed-point SIMD build: 8-bit weights, the tone as a table of rounded values. */
function eightBit(src: RawImage, win: Window, flip: boolean, outW: number, outH: number, lut: Uint8Array | null): Uint8Array {
  const { width: W, height: H, channels: C, data } = src
  const tap = (inSize: number, start: number, size: number, outSize: number, o: number, f: boolean): [number, number] => {
    const along = start + ((o + 0.5) * size) / outSize
    const s = Math.max(0, Math.min(inSize - 1, (f ? inSize - along : along) - 0.5))
    const i = Math.min(Math.floor(s), Math.max(0, inSize - 2))
    return [i, Math.round((s - i) * 256)]
  }
  const out = new Uint8Array(outW * outH * C)
  for (let y = 0; y < outH; y++) {
    const [i, b] = tap(H, win.y, win.h, outH, y, false)
    const j = Math.min(i + 1, H - 1)
    for (let x = 0; x < outW; x++) {
      const [k, bx] = tap(W, win.x, win.w, outW, x, flip)
      for (let c = 0; c < C; c++) {
        const row = (r: number): number => data[(r * W + k) * C + c]! * (256 - bx) + data[(r * W + k + 1) * C + c]! * bx
        const v = (row(i) * (256 - b) + row(j) * b + 32768) >>> 16
        out[(y * outW + x) * C + c] = lut ? lut[v]! : v
      }
    }
  }
  return out
}

/** A rendered-looking frame: smooth gradients, flat regions and hard-edged boxes. */
const scene = (w: number, h: number): RawImage =>
  rgb(w, h, (x, y, c) => {
    if (x > w * 0.3 && x < w * 0.5 && y > h * 0.4 && y < h * 0.8) return [220, 30, 30][c]!
    if ((x - w * 0.75) ** 2 + (y - h * 0.5) ** 2 < (h * 0.2) ** 2) return [20, 200, 60][c]!
    return y < h / 2 ? Math.round(90 + (120 * y) / h + 10 * c) : Math.round(60 + (40 * x) / w + 5 * c)
  })

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe('the WebAssembly SIMD build of the pass', () => {
  it('is available on this runtime (Node 20 has WebAssembly SIMD)', () => {
    expect(wasmResampler()).not.toBeNull()
  })

  const rnd = seededRandom(5)
  const noise = rgb(97, 61, () => Math.floor(rnd() * 256))
  const cases: Array<[string, Window, boolean, number, number]> = [
    ['upsampled crop', { x: 13, y: 7, w: 60, h: 38 }, false, 97, 61],
    ['flipped crop', { x: 2, y: 11, w: 71, h: 40 }, true, 97, 61],
    ['width not a multiple of 4, tall', { x: 0, y: 0, w: 97, h: 61 }, true, 131, 150],
    ['downsampled', { x: 5, y: 3, w: 90, h: 55 }, false, 33, 20],
    ['tiny', { x: 40, y: 30, w: 2, h: 1 }, true, 5, 3],
  ]
  const tones: Array<[string, Tone | null]> = [
    ['no tone', null],
    ['linear tone', toneOf(0.13, 1.2, null)],
    ['darkening linear tone', toneOf(-0.2, 0.8, null)],
    ['table tone', toneOf(0.05, 1.1, 0.8)],
  ]

  for (const [name, win, flip, outW, outH] of cases) {
    for (const [toneName, tone] of tones) {
      it(`gives the TypeScript pass's bytes exactly (${name}, ${toneName})`, () => {
        const simd = resizeWindow(noise, win, flip, outW, outH, tone, { wasm: true }).data
        const ts = resizeWindow(noise, win, flip, outW, outH, tone, { wasm: false }).data
        expect(simd.length).toBe(outW * outH * 3)
        expect(Buffer.from(simd).equals(Buffer.from(ts))).toBe(true)
      })
    }

    it(`is within ±1 of exact bilinear, and of its linear tone (${name})`, () => {
      const want = exact(noise, win, flip, outW, outH)
      expect(maxDiff(resizeWindow(noise, win, flip, outW, outH, null).data, want)).toBeLessThanOrEqual(1)
      // No rounding inside the reference: out = clamp(round(c·v + o)), here c = 1.2, o = 128 − 128·1.2 + 255·0.13.
      const toned = want.map((v) => Math.max(0, Math.min(255, 1.2 * v + 128 - 128 * 1.2 + 255 * 0.13)))
      expect(maxDiff(resizeWindow(noise, win, flip, outW, outH, toneOf(0.13, 1.2, null)).data, toned)).toBeLessThanOrEqual(1)
    })

    it(`applies a table to exactly the untoned result (${name})`, () => {
      const tone = toneOf(0.05, 1.1, 0.8) as Extract<Tone, { kind: 'table' }>
      const plain = resizeWindow(noise, win, flip, outW, outH, null).data
      expect([...resizeWindow(noise, win, flip, outW, outH, tone).data]).toEqual([...plain].map((v) => tone.lut[v]!))
    })
  }

  it('stays within ±1 of the previous 8-bit pass on a rendered-looking frame, toned or not', () => {
    const img = scene(320, 180)
    const win = { x: 41, y: 17, w: 250, h: 140 }
    for (const flip of [false, true]) {
      expect(maxDiff(resizeWindow(img, win, flip, 320, 180, null).data, eightBit(img, win, flip, 320, 180, null))).toBeLessThanOrEqual(1)
      const before = eightBit(img, win, flip, 320, 180, toneTable(0.12, 1, null))
      expect(maxDiff(resizeWindow(img, win, flip, 320, 180, toneOf(0.12, 1, null)).data, before)).toBeLessThanOrEqual(1)
    }
  })

  it('lends its memory only when asked: a borrowed result is overwritten by the next call, a plain one is not', () => {
    const a = rgb(8, 8, () => 10)
    const b = rgb(8, 8, () => 200)
    const win = { x: 0, y: 0, w: 6, h: 6 }
    const kept = resizeWindow(a, win, false, 8, 8, null).data
    const borrowed = resizeWindow(a, win, false, 8, 8, null, { borrow: true }).data
    resizeWindow(b, win, false, 8, 8, null, { borrow: true })
    expect(kept.every((v) => v === 10)).toBe(true)
    expect(borrowed.every((v) => v === 200)).toBe(true)
  })
})
