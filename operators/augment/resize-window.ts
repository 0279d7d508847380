/**
 * Crop, flip, resize and tone in one pass over raw interleaved 8-bit images: separable fixed-point bilinear with
 * 11-bit weights, as OpenCV's INTER_LINEAR. RGB goes through the WebAssembly SIMD build (wasm-passes.ts)
 * when the runtime has it; every other case, and RGB without it, through the TypeScript pass here, which does the
 * same integer arithmetic and so gives the same bytes. Much cheaper than libvips' upsampling `resize` and `linear`
 * (bench/README.md, augment); the usual crop-and-resize-back always upsamples.
 */
import type { RawImage } from './pixel-ops.ts'
import { resampleWasm, wasmResampler } from './wasm-passes.ts'

export interface Window {
  x: number
  y: number
  w: number
  h: number
}

/**
 * The colour change folded into the pass. `linear`: out = clamp((v·scale + offset) >> 19) with v the interpolated
 * value·128 (brightness and contrast, exact to 1/8 of a level); `table`: out = lut[round(v / 128)] (with gamma).
 */
export type Tone = { kind: 'linear'; scale: number; offset: number } | { kind: 'table'; lut: Uint8Array }

/** Per output column or row: the left/upper source index and the right/lower neighbour's weight in [0, 2048]. */
export interface Taps {
  index: Int32Array
  weight: Int32Array
}

export const WEIGHT_BITS = 11
const ONE = 1 << WEIGHT_BITS

/**
 * Pixel centres aligned, edges clamped. For rows (`rows`) a full weight moves to the next index, so the vertical
 * blend's Q15 weight (weight·16) stays below 2^15.
 */
export function taps(inSize: number, start: number, size: number, outSize: number, flip: boolean, rows: boolean): Taps {
  const index = new Int32Array(outSize)
  const weight = new Int32Array(outSize)
  for (let o = 0; o < outSize; o++) {
    const along = start + ((o + 0.5) * size) / outSize // continuous coordinate in the (flipped) image
    let s = (flip ? inSize - along : along) - 0.5
    s = Math.max(0, Math.min(inSize - 1, s))
    let i = Math.floor(s)
    if (i >= inSize - 1) i = Math.max(0, inSize - 2)
    let b = inSize > 1 ? Math.round((s - i) * ONE) : 0
    if (rows && b === ONE) ((i += 1), (b = 0))
    index[o] = i
    weight[o] = b
  }
  return { index, weight }
}

/**
 * `window` is in the flipped image when `flip` is set, as SensorGeometry gives it. With `borrow`, RGB output may
 * live in the WebAssembly module's memory: valid only until the next call in this thread (the frame path hands it
 * to sharp and awaits the encode before the next frame).
 */
export function resizeWindow(
  src: RawImage,
  window: Window,
  flip: boolean,
  outW: number,
  outH: number,
  tone: Tone | null,
  opts: { borrow?: boolean; wasm?: boolean } = {},
): RawImage {
  const xt = taps(src.width, window.x, window.w, outW, flip, false)
  const yt = taps(src.height, window.y, window.h, outH, false, true)
  const useWasm = (opts.wasm ?? true) && src.channels === 3 && wasmResampler() !== null
  const data = useWasm ? resampleWasm(src, xt, yt, outW, outH, tone, opts.borrow ?? false) : resampleTs(src, xt, yt, outW, outH, tone)
  return { data, width: outW, height: outH, channels: src.channels }
}

/** The rows of value·128 one column pass produces are reused from frame to frame: a large allocation less each time. */
let scratch = new Int16Array(0)

/** The TypeScript pass: the WebAssembly build's arithmetic, step for step, for any channel count. */
function resampleTs(src: RawImage, xt: Taps, yt: Taps, outW: number, outH: number, tone: Tone | null): Uint8Array {
  const { width: W, height: H, channels: C, data } = src
  const rowOut = outW * C
  const firstRow = yt.index[0]!
  const lastRow = Math.min(H - 1, yt.index[outH - 1]! + 1)
  if (scratch.length < (lastRow - firstRow + 1) * rowOut) scratch = new Int16Array((lastRow - firstRow + 1) * rowOut)
  const tmp = scratch
  const xi = xt.index,
    xw = xt.weight
  // A one-pixel-wide source has no right neighbour: its weight is 0, so it reads itself.
  const right = W > 1 ? C : 0
  for (let r = firstRow; r <= lastRow; r++) {
    const row = r * W * C
    let o = (r - firstRow) * rowOut
    for (let x = 0; x < outW; x++, o += C) {
      const i = row + xi[x]! * C
      const b = xw[x]!
      const a = ONE - b
      for (let c = 0; c < C; c++) tmp[o + c] = (data[i + c]! * a + data[i + right + c]! * b + 8) >> 4
    }
  }
  const out = new Uint8Array(outH * rowOut)
  const lut = tone?.kind === 'table' ? tone.lut : null
  const scale = tone?.kind === 'linear' ? tone.scale : 0
  const offset = tone?.kind === 'linear' ? tone.offset : 0
  for (let y = 0; y < outH; y++) {
    const w = yt.weight[y]! << 4
    const r0 = (yt.index[y]! - firstRow) * rowOut
    const r1 = w === 0 ? r0 : r0 + rowOut
    const o = y * rowOut
    for (let k = 0; k < rowOut; k++) {
      const v0 = tmp[r0 + k]!
      const v = v0 + (((tmp[r1 + k]! - v0) * w + 16384) >> 15)
      if (scale !== 0) {
        const q = (v * scale + offset) >> 19
        out[o + k] = q < 0 ? 0 : q > 255 ? 255 : q
      } else out[o + k] = lut ? lut[(v + 64) >> 7]! : (v + 64) >> 7
    }
  }
  return out
}

/**
 * The tone for the pass: linear in fixed point when there is no gamma (contrast·(v − 128) + 128 + 255·brightness,
 * rounded and clamped), else the table. Null when identity.
 */
export function toneOf(brightness: number, contrast: number, gamma: number | null): Tone | null {
  if (brightness === 0 && contrast === 1 && gamma === null) return null
  if (gamma === null) {
    const scale = Math.round(contrast * 4096)
    const offset = Math.round((128 - 128 * contrast + 255 * brightness) * 2 ** 19) + 2 ** 18
    // Both sides compute v·scale + offset in 32 bits; a contrast too large for that takes the table instead.
    if (scale !== 0 && 32640 * Math.abs(scale) + Math.abs(offset) < 2 ** 31) return { kind: 'linear', scale, offset }
  }
  return { kind: 'table', lut: toneTable(brightness, contrast, gamma)! }
}

/** contrast·(v − 128) + 128 + 255·brightness, then 255·(v/255)^gamma, clamped and rounded; null when identity. */
export function toneTable(brightness: number, contrast: number, gamma: number | null): Uint8Array | null {
  if (brightness === 0 && contrast === 1 && gamma === null) return null
  const lut = new Uint8Array(256)
  for (let v = 0; v < 256; v++) {
    let x = Math.max(0, Math.min(255, contrast * (v - 128) + 128 + 255 * brightness))
    if (gamma !== null) x = 255 * Math.pow(x / 255, gamma)
    lut[v] = Math.round(x)
  }
  return lut
}
