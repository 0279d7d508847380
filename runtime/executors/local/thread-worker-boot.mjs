// Worker threads on Node 20 do not inherit `--import` loader hooks, so each thread registers the loader (tsx and
// the `adas-forge` self-resolution) itself before loading the TypeScript worker.
import '../../loader.mjs'

await import('./thread-worker.ts')
