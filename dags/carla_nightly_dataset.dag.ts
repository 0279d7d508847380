import path from 'node:path'
import { carlaGenerate, scenarioMatrix, type CarlaShardItem, type ShardResult } from '../operators/carla/index.ts'
import { defineDag, insideFolder, safeSegment, z } from '../runtime/index.ts'

/**
 * The nightly synthetic dataset: a scenario matrix (map × weather × seed) fanned out over simulation shards on the
 * `gpu` pool, then a summary of what was recorded. With the default `carlaHost: 'embedded'` each shard talks to
 * carla-lite, the procedural stand-in started in-process; point it at a real CARLA 0.9.15 server with
 * `--conf '{"carlaHost": "carla.sim.svc", "carlaPort": 2000}'`.
 */
export default defineDag(
  {
    id: 'carla_nightly_dataset',
    description: 'CARLA scenario matrix -> labelled camera frames (KITTI + COCO)',
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
    dag.task(
      'summary',
      {
        inputs: { shards: shards.out },
        run: ({ inputs }) => {
          const list = inputs.shards as ShardResult[]
          return {
            frames: list.reduce((n, s) => n + s.frames, 0),
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
