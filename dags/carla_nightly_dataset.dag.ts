import path from 'node:path'
import { augmentShardsOperator, recipeSchema, type AugmentSummary, type RecipeInput } from 'adas-forge/operators/augment'
import { carlaGenerate, scenarioMatrix, type CarlaShardItem, type ShardResult } from 'adas-forge/operators/carla'
import { versionDataset, type DatasetVersion } from 'adas-forge/operators/dvc'
import { mlflowLogDataset } from 'adas-forge/operators/mlflow'
import { transferEnv, uploadPrefix, type UploadResult } from 'adas-forge/operators/s3'
import { defineDag, insideFolder, safeSegment, z } from 'adas-forge'

/** The folder the augment step wrote its shards into (`<run>/augmented`). */
function augmentedRoot(aug: AugmentSummary): string {
  if (aug.shards.length === 0) throw new Error('the augment step produced no shards')
  return path.dirname(aug.shards[0]!.dir)
}

/**
 * The nightly synthetic dataset: a scenario matrix (map × weather × seed) fanned out over simulation shards on the
 * `gpu` pool, then seeded augmentation of every shard (labels moved with the pixels, written beside the shards
 * under `augmented/`), a dataset version of the augmented shards (DVC objects on the remote, then the git tag
 * NAME@vN, then the dataset event that starts train_on_new_dataset), an upload to S3 when a remote is set, the
 * build logged to MLflow when MLFLOW_TRACKING_URI is set, and a summary. With the default `carlaHost: 'embedded'` each shard talks to
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
    description: 'CARLA scenario matrix -> labelled frames (KITTI + COCO) -> augmented shards -> DVC dataset version -> MLflow',
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
      /** The dataset name: versions are tagged NAME@vN in the registry and recorded as dataset://NAME. */
      dataset: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
        .default('carla_nightly'),
      /** The dataset-registry git repository (created if missing) and the DVC remote (a folder, or s3://…). */
      registry: z.string().min(1).default('.forge/registry'),
      dvcRemote: z.string().min(1).default('.forge/dvc-remote'),
      /** s3://bucket/prefix for a copy of the augmented shards; empty: no upload. */
      s3Remote: z
        .string()
        .regex(/^(s3:\/\/[^/]+.*)?$/, 'an s3://bucket/prefix URL or empty')
        .default(''),
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
    // The augmented shards become a dataset version: DVC objects pushed to the remote, then a commit and the tag
    // NAME@vN in the registry; the dataset event it records starts train_on_new_dataset.
    const version = dag.task('version', {
      inputs: { augmented: augmented.out },
      run: async (ctx): Promise<DatasetVersion> => {
        const root = augmentedRoot(ctx.inputs.augmented as AugmentSummary)
        const v = await versionDataset(
          {
            repo: ctx.params.registry,
            path: ctx.params.dataset,
            source: root,
            dataset: ctx.params.dataset,
            remote: { url: path.resolve(ctx.params.dvcRemote) },
            identity: { name: 'adas-forge', email: 'adas-forge@localhost' },
          },
          { log: ctx.log, progress: (d, t, u) => ctx.progress(d, t, u), signal: ctx.signal },
        )
        ctx.outlet(`dataset://${ctx.params.dataset}`, {
          version: `v${v.version}`,
          md5: v.md5,
          tag: v.tag,
          commit: v.commit,
          remote: v.remote?.url ?? null,
          frames: (ctx.inputs.augmented as AugmentSummary).frames,
        })
        return v
      },
    })
    // A copy of the augmented shards in object storage, when a remote is configured (s3Remote: s3://bucket/prefix).
    const upload = dag.task('upload', {
      inputs: { augmented: augmented.out, version: version.out },
      run: async (ctx) => {
        if (!ctx.params.s3Remote) {
          ctx.log('no S3 remote configured (params.s3Remote): upload skipped; the dataset version is in the DVC remote')
          return { skipped: true, reason: 'no S3 remote configured' }
        }
        const to = `${ctx.params.s3Remote.replace(/\/+$/, '')}/${(ctx.inputs.version as DatasetVersion).tag ?? ctx.runId}/`
        return uploadPrefix({ from: augmentedRoot(ctx.inputs.augmented as AugmentSummary), to }, transferEnv(ctx))
      },
    })
    const register = dag.task(
      'register',
      mlflowLogDataset({ version: version.out, experiment: 'carla-nightly-datasets', tags: { 'adas_forge.dag_id': 'carla_nightly_dataset' } }),
    )
    dag.task(
      'summary',
      {
        inputs: { shards: shards.out, augmented: augmented.out, version: version.out, upload: upload.out, register: register.out },
        run: ({ inputs }) => {
          const list = inputs.shards as ShardResult[]
          const aug = inputs.augmented as AugmentSummary
          const v = inputs.version as DatasetVersion
          const mlflow = inputs.register as { skipped?: boolean; runUrl?: string; reason?: string }
          // The upload step returns `{ skipped: true, reason }` without a remote, else the upload's counts.
          const s3 = inputs.upload as { skipped: true; reason: string } | UploadResult
          return {
            frames: list.reduce((n, s) => n + s.frames, 0),
            augmentedFrames: aug.frames,
            augmentedLabels: aug.labels,
            labels: list.reduce((n, s) => n + s.labels, 0),
            shards: list.length,
            bytes: list.reduce((n, s) => n + s.bytes, 0),
            files: list.length ? path.dirname(list[0]!.dir) : null,
            dataset: v.tag ?? v.md5,
            md5: v.md5,
            s3: 'reason' in s3 ? `skipped (${s3.reason})` : `${s3.url} (${s3.uploaded} objects uploaded, ${s3.skipped} already there)`,
            mlflow: mlflow.skipped ? `skipped (${mlflow.reason})` : (mlflow.runUrl ?? null),
          }
        },
      },
      { isolation: 'thread' },
    )
  },
)
