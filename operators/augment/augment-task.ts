/**
 * The task adapter: a DAG task's context in, the core's narrow environment out (signal, log, frame progress).
 * `dag.task('augment', { inputs: { shards: simulate.out, recipe }, run: augmentTask })`.
 */
import path from 'node:path'
import { insideFolder, type TaskContext } from '../../runtime/index.ts'
import { augmentShards, type AugmentResult } from './augment-shard.ts'
import type { RecipeInput } from './recipe.ts'

export interface AugmentTaskInputs {
  /** Generated shards (the `simulate` results): each one's folder. */
  shards: ReadonlyArray<{ dir: string }>
  recipe?: RecipeInput
  /** Parent folder of the augmented shards (default: 'augmented' beside each source shard). */
  outDir?: string
}

export interface AugmentSummary {
  shards: AugmentResult[]
  frames: number
  labels: number
  dropped: number
  tightened: number
  bytes: number
}

export async function augmentTask(ctx: TaskContext<unknown, AugmentTaskInputs>): Promise<AugmentSummary> {
  const { shards, recipe, outDir } = ctx.inputs
  const items = shards.map((s) => ({ dir: s.dir, recipe, outDir: outDir ?? insideFolder(path.dirname(s.dir), 'augmented') }))
  const results = await augmentShards(items, { signal: ctx.signal, log: ctx.log, progress: (d, t, u) => ctx.progress(d, t, u) })
  const sum = (k: 'frames' | 'labels' | 'dropped' | 'tightened' | 'bytes'): number => results.reduce((n, r) => n + r[k], 0)
  return { shards: results, frames: sum('frames'), labels: sum('labels'), dropped: sum('dropped'), tightened: sum('tightened'), bytes: sum('bytes') }
}
