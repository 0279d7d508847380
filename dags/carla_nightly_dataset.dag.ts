import path from 'node:path'
import { augmentShardsOperator, recipeSchema, type AugmentSummary, type RecipeInput } from 'adas-forge/operators/augment'
import { carlaGenerate, scenarioMatrix, type CarlaShardItem, type ShardResult } from 'adas-forge/operators/carla'
import { defineDag, insideFolder, safeSegment, z } from 'adas-forge'

/**
 * The nightly synthetic dataset: a scenario matrix (map × weather × seed) fanned out over simulation shards on the
 * `gpu` pool, then seeded augmentation of every shard (labels moved with the pixels, written beside the shards
 * under `augmented/`), then a summary of what was recorded. With the default `carlaHost: 'embedded'` each shard talks to
 * carla-lite, the procedural stand-in started in-process; point it at a real CARLA 0.9.15 server with
 * `--conf '{"carlaHost": "carla.sim.svc", "carlaPort": 2000}'`.
 */
/** Mild, label-safe variations of every frame; each op fires on its own share of frames. */
const NIGHTLY_RECIPE: RecipeInput = {
  seed: 0,
  ops: {
    flip: { p: 0.5 },
    crop: { p: 0.5, scale: [0.7, 1] },
    affine: { p: 0.3, rotate: [-5, 5], scale: [0.95, 1.05] },
    brightness: { p: 0.5, range: [-0.15, 0.15] },
    contrast: { p: 0.5, range: [0.8, 1.2] },
    gamma: { p: 0.2, range: [0.8, 1.25] },
    blur: { p: 0.2, sigma: [0.5, 1.2] },
    noise: { p: 0.2, sigma: [2, 6] },
    jpeg: { p: 0.2, quality: [60, 95] },
    fog: { p: 0.1, density: [0.1, 0.3] },
    rain: { p: 0.1, drops: [100, 400] },
  },
  labels: { minVisibility: 0.25 },
}

export default defineDag(
  {
    id: 'carla_nightly_dataset',
    description: 'CARLA scenario matrix -> labelled camera frames (KITTI + COCO) -> augmented shards',
    schedule: '0 2 * * *',
    timezone: 'Europe/Berlin',
    catchup: false,
    maxActiveRuns: 1,
    params: z.object({
      towns: z.array(z.string()).min(1).default(['Town01', 'Town03']),
      weathers: z.array(z.string()).min(1).default(['ClearNoon', 'WetCloudySunset']),
      seeds: z.array(z.number().int().min(0)).min(1).default([7]),
      frames: z.number().int().min(1).max(100_000).default(40),
      width: z.number().int().min(64).max(3840).default(640),
      height: z.number().int().min(64).max(2160).default(360),
      vehicles: z.number().int().min(0).max(200).default(6),
      pedestrians: z.number().int().min(0).max(200).default(4),
      format: z.enum(['png', 'raw']).default('png'),
      carlaHost: z.string().default('embedded'),
      carlaPort: z.number().int().min(1).max(65_535).default(2000),
      outDir: z.string().default('datasets'),
      /** The augmentation recipe (operators/augment/README.md); its seed makes the augmented shards reproducible. */
      augment: recipeSchema.prefault(NIGHTLY_RECIPE),
    }),
    defaults: { retries: 2, retryDelay: '30s', retryBackoff: 'exponential', timeout: '2h' },
  },
  (dag) => {
    const plan = dag.task(
      'plan',
      ({ params, runId }): CarlaShardItem[] => {
        const camera = { image_size_x: params.width, image_size_y: params.height, fov: 90 }
        const scenarios = scenarioMatrix({
          maps: params.towns,
          weathers: params.weathers,
          seeds: params.seeds,
          frames: params.frames,
          format: params.format,
          npcs: { vehicles: params.vehicles, pedestrians: params.pedestrians },
          sensors: [
            { name: 'rgb', blueprint: 'sensor.camera.rgb', attributes: camera },
            { name: 'depth', blueprint: 'sensor.camera.depth', attributes: camera },
            { name: 'semantic', blueprint: 'sensor.camera.semantic_segmentation', attributes: camera },
          ],
        })
        // One folder per run under outDir (':' of the ISO timestamp becomes '_'); checked to stay inside it.
        const outDir = insideFolder(params.outDir, safeSegment(runId.replace(/[^A-Za-z0-9_.-]/g, '_'), 'run id'))
        return scenarios.map((scenario) => ({ scenario, host: params.carlaHost, port: params.carlaPort, outDir }))
      },
      { isolation: 'thread', retries: 0 },
    )
    const shards = dag.map('simulate', plan.out, carlaGenerate(), { pool: 'gpu', timeout: '1h' })
    // One task over all shards: its worker pool already spreads frames over every core.
    const augmented = dag.task('augment', augmentShardsOperator({ shards: shards.out, recipeParam: 'augment' }), { timeout: '1h' })
    dag.task(
      'summary',
      {
        inputs: { shards: shards.out, augmented: augmented.out },
        run: ({ inputs }) => {
          const list = inputs.shards as ShardResult[]
          const aug = inputs.augmented as AugmentSummary
          return {
            frames: list.reduce((n, s) => n + s.frames, 0),
            augmentedFrames: aug.frames,
            augmentedLabels: aug.labels,
            labels: list.reduce((n, s) => n + s.labels, 0),
            shards: list.length,
            bytes: list.reduce((n, s) => n + s.bytes, 0),
            files: list.length ? path.dirname(list[0]!.dir) : null,
          }
        },
      },
      { isolation: 'thread' },
    )
  },
)
