/**
 * The augmentation operator: seeded, reproducible image augmentations of generated shards with the labels moved
 * with the pixels, spread over a pool of worker threads.
 *
 * ```ts
 * import { augmentTask, recipeSchema } from '../operators/augment/index.ts'
 * dag.task('augment', { inputs: { shards: simulate.out, recipe: { seed: 1, ops: { flip: { p: 0.5 } } } }, run: augmentTask })
 * ```
 */
export { recipeSchema, parseRecipe, RecipeError, OP_NAMES, type Recipe, type RecipeInput, type OpName } from './recipe.ts'
export { augmentShard, augmentShards, type AugmentShardItem, type AugmentResult, type AugmentEnv } from './augment-shard.ts'
export { augmentTask, augmentShardsOperator, type AugmentTaskInputs, type AugmentOperatorInputs, type AugmentSummary } from './augment-task.ts'
export { FramePool, type FramePoolOptions } from './frame-pool.ts'
export { planFrame, sensorGeometry, type FramePlan } from './frame-plan.ts'
export { moveObjects, type FrameObject } from './box-labels.ts'
export { ShardFormatError } from './source-shard.ts'
