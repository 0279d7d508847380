/**
 * The worker thread's side of the pool: one frame at a time, replies with the result or the error's message.
 * libvips threads per image are set per worker (see WorkerPool's vipsThreads).
 */
import { parentPort } from 'node:worker_threads'
import sharp from 'sharp'
import { augmentFrame, type FrameJob } from './augment-frame.ts'

export function serve(data: { vipsThreads: number }): void {
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
  parentPort!.postMessage({ ready: true })
}
