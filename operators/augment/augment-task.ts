/**
 * Adapters from a task to the core: `augmentTask`, a plain task function, and `augmentShardsOperator`, the same
 * work as an SDK operator (`augment.shards`) that also declares each augmented shard as an outlet. Both hand the
 * core only the narrow environment it takes (signal, log, frame progress).
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { insideFolder, type TaskContext } from '../../runtime/index.ts'
import { defineOperator, type Ref } from '../../runtime/operator.ts'
import { augmentShards, type AugmentEnv, type AugmentResult } from './augment-shard.ts'
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

async function runAugment(inputs: AugmentTaskInputs, env: AugmentEnv): Promise<AugmentSummary> {
  const { shards, recipe, outDir } = inputs
  const items = shards.map((s) => ({ dir: s.dir, recipe, outDir: outDir ?? insideFolder(path.dirname(s.dir), 'augmented') }))
  const results = await augmentShards(items, env)
  const sum = (k: 'frames' | 'labels' | 'dropped' | 'tightened' | 'bytes'): number => results.reduce((n, r) => n + r[k], 0)
  return { shards: results, frames: sum('frames'), labels: sum('labels'), dropped: sum('dropped'), tightened: sum('tightened'), bytes: sum('bytes') }
}

export async function augmentTask(ctx: TaskContext<unknown, AugmentTaskInputs>): Promise<AugmentSummary> {
  return runAugment(ctx.inputs, { signal: ctx.signal, log: ctx.log, progress: (d, t, u) => ctx.progress(d, t, u) })
}

export interface AugmentOperatorInputs {
  shards: Ref<ReadonlyArray<{ dir: string }>> | ReadonlyArray<{ dir: string }>
  /** The recipe itself, or `recipeParam`: the name of the DAG param that holds it (params are known only at run time). */
  recipe?: RecipeInput
  recipeParam?: string
  outDir?: string
}

/** `dag.task('augment', augmentShardsOperator({ shards: simulate.out, recipeParam: 'augment' }))` */
export const augmentShardsOperator = defineOperator({
  name: 'augment.shards',
  inputs: (o: AugmentOperatorInputs) => o,
  run: async (ctx): Promise<AugmentSummary> => {
    const { shards, recipe, recipeParam, outDir } = ctx.inputs
    const fromParams = recipeParam === undefined ? undefined : (ctx.params as Record<string, unknown> | undefined)?.[recipeParam]
    // Resolving inputs widens the tuples to arrays; parseRecipe checks the recipe in full either way.
    const summary = await runAugment(
      {
        shards: shards as ReadonlyArray<{ dir: string }>,
        recipe: ((recipe as RecipeInput | undefined) ?? fromParams) as RecipeInput | undefined,
        outDir,
      },
      {
        signal: ctx.signal,
        log: ctx.log,
        progress: (d, t, u) => ctx.progress(d, t, u),
      },
    )
    // After the manifests are written: an outlet declares a complete shard.
    for (const s of summary.shards)
      ctx.outlet(pathToFileURL(path.resolve(s.dir)).href, { shard: s.shard, frames: s.frames, labels: s.labels, source: s.source })
    return summary
  },
})
