/**
 * Loads wasm/resample.wasm (built from wasm/resample.as.ts) and runs its RGB passes, the crop-flip-resize and the
 * Gaussian blur: lays out the pixels, tables and weights in the module's memory, calls it, hands back the bytes.
 * A runtime without WebAssembly SIMD cannot validate the module; the TypeScript passes then do the work.
 */
import { readFileSync } from 'node:fs'
import type { RawImage } from './pixel-ops.ts'
import type { BlurKernel } from './gaussian-blur.ts'
import type { Taps, Tone } from './resize-window.ts'

/** The part of the WebAssembly JavaScript API used here: Node's types do not declare it, and the DOM lib is not loaded. */
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly

interface Resampler {
  memory: WasmMemory
  base: number
  resample(...args: number[]): void
  blur(...args: number[]): void
}

export const WASM_FILE = new URL('./wasm/resample.wasm', import.meta.url)

let loaded: Resampler | null | undefined
let switchedOff = false

/**
 * Makes this thread take the TypeScript passes, as a runtime without WebAssembly SIMD does (the pool's `wasm: false`),
 * so that path can be run and compared where SIMD exists.
 */
export function turnOffWasmSimd(): void {
  switchedOff = true
}

/** The module, instantiated once per thread; null when this runtime has no WebAssembly SIMD or it was turned off. */
export function wasmResampler(): Resampler | null {
  if (switchedOff) return null
  if (loaded !== undefined) return loaded
  const bytes = readFileSync(WASM_FILE)
  if (!wasmApi || !wasmApi.validate(bytes)) return (loaded = null)
  const abort = (): never => {
    throw new Error('resample.wasm aborted')
  }
  const { exports } = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { abort } })
  const heapBase = (exports.heapBase as () => number)()
  loaded = {
    memory: exports.memory as WasmMemory,
    base: align(heapBase),
    resample: exports.resample as Resampler['resample'],
    blur: exports.blur as Resampler['blur'],
  }
  return loaded
}

const align = (n: number): number => (n + 15) & ~15
const TONE_MODE = { linear: 1, table: 2 } as const

/** `borrow`: the result is a view of the module's memory, overwritten by the next call in this thread. */
export function resampleWasm(src: RawImage, xt: Taps, yt: Taps, outW: number, outH: number, tone: Tone | null, borrow: boolean): Uint8Array {
  const m = wasmResampler()!
  const stride = src.width * 3
  const firstRow = yt.index[0]!
  const lastRow = Math.min(src.height - 1, yt.index[outH - 1]! + 1)
  const n = outW * outH * 3
  // Slack after the source and each row: the SIMD loads and stores run up to 16 bytes past the last pixel.
  const srcPtr = m.base
  const xtab = align(srcPtr + (lastRow - firstRow + 1) * stride + 16)
  const ytab = align(xtab + outW * 8)
  const slot = align(outW * 6 + 16)
  const rows = align(ytab + outH * 8)
  const out = rows + 2 * slot
  const lut = align(out + n + 16)
  const end = lut + 256
  reserve(m, end)
  const mem = new Uint8Array(m.memory.buffer)
  mem.set(src.data.subarray(firstRow * stride, (lastRow + 1) * stride), srcPtr)
  const xs = new Int32Array(m.memory.buffer, xtab, outW * 2)
  for (let x = 0; x < outW; x++) {
    const b = xt.weight[x]!
    xs[2 * x] = xt.index[x]! * 3
    xs[2 * x + 1] = (2048 - b) | (b << 16)
  }
  const ys = new Int32Array(m.memory.buffer, ytab, outH * 2)
  for (let y = 0; y < outH; y++) {
    ys[2 * y] = yt.index[y]! - firstRow
    ys[2 * y + 1] = yt.weight[y]! << 4
  }
  if (tone?.kind === 'table') mem.set(tone.lut, lut)
  const mode = tone ? TONE_MODE[tone.kind] : 0
  const scale = tone?.kind === 'linear' ? tone.scale : 0
  const offset = tone?.kind === 'linear' ? tone.offset : 0
  m.resample(srcPtr, stride, xtab, outW, ytab, outH, rows, slot, out, mode, scale, offset, lut)
  return borrow ? Buffer.from(m.memory.buffer, out, n) : mem.slice(out, out + n)
}

function reserve(m: Resampler, end: number): void {
  const have = m.memory.buffer.byteLength
  if (end > have) m.memory.grow(Math.ceil((end - have) / 65536))
}

/**
 * Blurs an RGB image. One that is a borrowed result of this module (the resize pass's) is blurred where it lies;
 * any other is copied in first. Growing the memory detaches earlier views, so callers use the returned bytes only.
 */
export function blurWasm(img: RawImage, kernel: BlurKernel, borrow: boolean): Uint8Array {
  const m = wasmResampler()!
  const n = img.width * img.height * 3
  const inPlace = img.data.buffer === m.memory.buffer
  const ptr = inPlace ? img.data.byteOffset : m.base
  const pad = align(ptr + n + 16)
  // The row pad, reused by the column pass for its table of row addresses.
  const tmp = align(pad + Math.max((img.width + 2 * kernel.r) * 3 + 16, 8 * (kernel.r + 1)))
  const weights = align(tmp + 2 * n + 32)
  const end = weights + 16 * (kernel.r + 1)
  reserve(m, end)
  if (!inPlace) {
    if (img.data.length !== n) throw new Error(`blur: ${img.data.length} bytes for a ${img.width}×${img.height} RGB image`)
    new Uint8Array(m.memory.buffer).set(img.data, ptr)
  }
  // Each weight splatted over the 8 i16 lanes of a vector.
  const lanes = new Int16Array(m.memory.buffer, weights, 8 * (kernel.r + 1))
  for (let i = 0; i <= kernel.r; i++) lanes.fill(kernel.weights[i]!, 8 * i, 8 * i + 8)
  m.blur(ptr, img.width, img.height, kernel.r, weights, pad, tmp)
  return borrow ? Buffer.from(m.memory.buffer, ptr, n) : new Uint8Array(m.memory.buffer).slice(ptr, ptr + n)
}
