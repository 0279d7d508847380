// Worker threads on Node 20 do not inherit `--import tsx` loader hooks, so each thread registers tsx itself
// before loading the TypeScript worker.
import { register } from 'tsx/esm/api'

register()
await import('./thread-worker.ts')
