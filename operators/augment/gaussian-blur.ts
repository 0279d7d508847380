/**
 * Gaussian blur of raw interleaved 8-bit images: separable, fixed point, edges replicated, kernel size as OpenCV's
 * GaussianBlur picks it for 8-bit images (round(6σ + 1), made odd). RGB runs in the WebAssembly SIMD module, which
 * blurs the resize pass's output where it lies; the TypeScript pass here does the same integer arithmetic for the
 * rest and when the runtime has no WebAssembly SIMD. It replaced libvips' `blur`, which took 2–4 ms a frame and
 * about 20 for sigmas between 0.58 and 0.62 (bench/README.md, augment).
 */
import type { RawImage } from './pixel-ops.ts'
import { blurWasm, wasmResampler } from './wasm-passes.ts'

/** Q15 weights per tap distance 0..r: the 2r + 1 taps sum to exactly 32768, so flat regions stay flat. */
export interface BlurKernel {
  r: number
  weights: Int32Array
}

/** Null when sigma is too small for any neighbour to get weight: the blur is then the identity. */
export function gaussianKernel(sigma: number): BlurKernel | null {
  const r = (Math.round(sigma * 6 + 1) | 1) >> 1
  if (!(r >= 1)) return null
  const g = Array.from({ length: r + 1 }, (_, i) => Math.exp(-(i * i) / (2 * sigma * sigma)))
  const total = g.reduce((s, v, i) => s + (i === 0 ? v : 2 * v), 0)
  const weights = Int32Array.from(g, (v) => Math.round((v / total) * 32768))
  weights[0] = 32768 - 2 * weights.slice(1).reduce((s, v) => s + v, 0)
  // The centre weight is an i16 lane: 32768 would wrap (every other weight 0, nothing to blur).
  if (weights[0]! > 32767) return null
  return { r, weights }
}

/** With `borrow`, an RGB result may live in the WebAssembly module's memory (see resizeWindow). */
export function gaussianBlur(img: RawImage, sigma: number, opts: { borrow?: boolean; wasm?: boolean } = {}): RawImage {
  const kernel = gaussianKernel(sigma)
  if (!kernel) return img
  const useWasm = (opts.wasm ?? true) && img.channels === 3 && wasmResampler() !== null
  const data = useWasm ? blurWasm(img, kernel, opts.borrow ?? false) : blurTs(img, kernel)
  return { ...img, data }
}

/** Both passes of the SIMD build, lane by lane: rows to i16 of value·64, then columns back to bytes. */
function blurTs(img: RawImage, { r, weights: k }: BlurKernel): Uint8Array {
  const { width: W, height: H, channels: C, data } = img
  const n = W * C
  const q15 = (a: number, b: number): number => (a * b + 16384) >> 15
  const mid = new Int16Array(n * H)
  for (let y = 0; y < H; y++) {
    const row = y * n
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        let acc = q15(data[row + x * C + c]! << 6, k[0]!)
        for (let i = 1; i <= r; i++) {
          const l = Math.max(0, x - i),
            h = Math.min(W - 1, x + i)
          acc += q15((data[row + l * C + c]! + data[row + h * C + c]!) << 6, k[i]!)
        }
        mid[row + x * C + c] = acc
      }
    }
  }
  const out = new Uint8Array(n * H)
  for (let y = 0; y < H; y++) {
    for (let j = 0; j < n; j++) {
      let acc = q15(mid[y * n + j]!, k[0]!)
      for (let i = 1; i <= r; i++) acc += q15(mid[Math.max(0, y - i) * n + j]! + mid[Math.min(H - 1, y + i) * n + j]!, k[i]!)
      const q = (acc + 32) >> 6
      out[y * n + j] = q < 0 ? 0 : q > 255 ? 255 : q
    }
  }
  return out
}
