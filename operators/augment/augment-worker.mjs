// Entry of an augmentation worker thread. Plain JS on purpose: a worker does not inherit a loader registered in
// code (forge registers tsx that way), so the TypeScript side is loaded through tsx's scoped import, which works
// whether or not the parent's tsx flags were passed on to this thread.
import { workerData } from 'node:worker_threads'
import { tsImport } from 'tsx/esm/api'

const mod = await tsImport('./augment-worker.ts', import.meta.url)
mod.serve(workerData)
