// Worker threads on Node 20 do not inherit `--import tsx` loader hooks, so each thread registers tsx itself
// before loading the TypeScript worker.
import { register } from 'tsx/esm/api'
import { register as registerCjs } from 'tsx/cjs/api'

// Both hooks: a DAG file outside a "type": "module" package is loaded as CommonJS.
register()
registerCjs()
await import('./thread-worker.ts')
