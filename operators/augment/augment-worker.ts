/**
 * The worker thread's side of the pool: one frame at a time, replies with the result or the error's message.
 * libvips threads per image are set per worker (see WorkerPool's vipsThreads).
 */
import { parentPort } from 'node:worker_threads'
import sharp from 'sharp'
import { augmentFrame, type FrameJob } from './augment-frame.ts'
import { turnOffWasmSimd, wasmResampler } from './wasm-passes.ts'

export interface WorkerSettings {
  vipsThreads: number
  /** False: the TypeScript passes even where WebAssembly SIMD exists. */
  wasm: boolean
}

export function serve(data: WorkerSettings): void {
  if (!data.wasm) turnOffWasmSimd()
  sharp.concurrency(data.vipsThreads)
  // Each input file is read once: libvips' operation cache would only hold on to decoded frames.
  sharp.cache(false)
  parentPort!.on('message', async (m: { id: number; job: FrameJob }) => {
    try {
      parentPort!.postMessage({ id: m.id, ok: true, result: await augmentFrame(m.job) })
    } catch (err) {
      parentPort!.postMessage({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) })
    }
  })
  // The pool logs which passes its workers run: the two give the same bytes, at very different speeds.
  parentPort!.postMessage({ ready: true, passes: wasmResampler() ? 'wasm-simd' : 'typescript' })
}
