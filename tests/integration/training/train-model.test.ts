import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pullDataset, type PulledDataset } from '../../../operators/dvc/pull.ts'
import { versionDataset } from '../../../operators/dvc/version-dataset.ts'
import { exampleTrainerCommand } from '../../../operators/training/example-trainer-command.ts'
import { MODEL_VERSION_TAG, TRAINING_TAG } from '../../../operators/training/log-training.ts'
import { trainModel } from '../../../operators/training/train-model.ts'
import { trainingRun } from '../../../operators/training/training-run.operator.ts'
import { pullAndTrain } from '../../../operators/training/pull-and-train.operator.ts'
import type { TaskContext } from '../../../runtime/index.ts'
import { startMlflowDouble, type MlflowDouble } from '../../doubles/mlflow-server.ts'

let work: string
let server: MlflowDouble
let logs: string[]
let pulled: PulledDataset
const link = { dagId: 'train_on_new_dataset', runId: 'dataset_triggered__2026-12-02T03:00:00Z', taskId: 'train' }
const log = (m: string): void => void logs.push(m)

const coco = (anns: Array<[number, number, number]>, images: number) =>
  JSON.stringify({
    info: {},
    images: Array.from({ length: images }, (_, i) => ({ id: i + 1, file_name: `frames/rgb/${i}.png`, width: 800, height: 600, frame: i })),
    annotations: anns.map(([cat, w, h], i) => ({
      id: i + 1,
      image_id: 1,
      category_id: cat,
      bbox: [10, 10, w, h],
      area: w * h,
      iscrowd: 0,
      carla_actor_id: i,
      visibility: 1,
    })),
    categories: [
      { id: 1, name: 'Car' },
      { id: 4, name: 'Pedestrian' },
    ],
  })

beforeEach(async () => {
  logs = []
  work = await mkdtemp(path.join(tmpdir(), 'forge-train-'))
  const out = path.join(work, 'out')
  await mkdir(path.join(out, 'shard-0', 'labels'), { recursive: true })
  await mkdir(path.join(out, 'shard-1', 'labels'), { recursive: true })
  await writeFile(
    path.join(out, 'shard-0', 'labels', 'coco.json'),
    coco(
      [
        [1, 100, 50],
        [1, 60, 30],
        [4, 20, 60],
      ],
      2,
    ),
  )
  await writeFile(path.join(out, 'shard-1', 'labels', 'coco.json'), coco([[1, 80, 40]], 1))
  await versionDataset(
    { repo: path.join(work, 'registry'), path: 'carla', source: out, dataset: 'carla', remote: { url: path.join(work, 'store') } },
    { dvcAvailable: async () => false },
  )
  pulled = await pullDataset({ repo: path.join(work, 'registry'), tag: 'carla@v1', dest: path.join(work, 'datasets', 'carla') })
  server = await startMlflowDouble()
})
afterEach(async () => {
  await server.close()
  await rm(work, { recursive: true, force: true })
})

const options = () => ({
  command: exampleTrainerCommand(),
  dataset: pulled,
  outputDir: path.join(work, 'model'),
  model: { name: 'carla-prior' },
  params: { seed: 7 },
})

describe('trainModel with the example trainer', () => {
  it('trains on the pulled version, logs the run with the dataset as input, registers the version with an alias', async () => {
    const progress: string[] = []
    const r = await trainModel(options(), {
      link,
      log,
      mlflow: { trackingUri: server.url },
      progress: (d, t, u) => void progress.push(`${d}/${t} ${u}`),
    })
    expect(r.metrics).toEqual({
      frames: 3,
      boxes: 4,
      class_entropy_bits: 0.8113,
      'boxes.Car': 3,
      'mean_width.Car': 80,
      'mean_height.Car': 40,
      'boxes.Pedestrian': 1,
      'mean_width.Pedestrian': 20,
      'mean_height.Pedestrian': 60,
    })
    expect(progress).toEqual(['1/2 label files', '2/2 label files'])
    const model = JSON.parse(await readFile(path.join(work, 'model', 'model.json'), 'utf8')) as {
      kind: string
      prior: Record<string, number>
      dataset: string
    }
    expect(model).toMatchObject({ kind: 'example per-class box prior (not a detector)', dataset: 'carla@v1', prior: { Car: 0.75, Pedestrian: 0.25 } })
    expect(logs).toContain('read 3 frames and 4 boxes (coco); 2 classes') // the trainer's output reached the log

    if (r.mlflow.skipped) throw new Error('MLflow unexpectedly skipped')
    expect(r.model).toEqual({ name: 'carla-prior', version: '1', alias: 'candidate' })
    const run = server.runs.get(r.mlflow.runId)!
    expect(run.info.status).toBe('FINISHED')
    const tags = Object.fromEntries(run.tags.map((t) => [t.key, t.value]))
    expect(tags).toMatchObject({
      [TRAINING_TAG]: 'train_on_new_dataset/dataset_triggered__2026-12-02T03:00:00Z/train',
      [MODEL_VERSION_TAG]: '1',
      'dvc.git_tag': 'carla@v1',
      'dvc.md5': pulled.md5,
    })
    expect(Object.fromEntries(run.params.map((p) => [p.key, p.value]))).toEqual({
      trainer: 'example-trainer',
      label_format: 'coco',
      seed: '7',
      dataset: 'carla@v1',
    })
    expect(run.metrics.get('boxes.Car')?.value).toBe(3)
    expect(run.inputs).toHaveLength(1)
    expect(run.inputs[0]!.dataset).toMatchObject({ name: 'carla', digest: pulled.digest, source_type: 'local' })
    expect(JSON.parse(run.inputs[0]!.dataset.source!)).toEqual({
      uri: path.join(work, 'store'),
      git_tag: 'carla@v1',
      git_commit: pulled.commit,
      dvc_md5: pulled.md5,
    })
    const m = server.models.get('carla-prior')!
    // The version's source is the run's model/ folder on the artifact proxy, and the server holds the model's bytes there.
    const modelDir = `mlflow-artifacts:/1/${r.mlflow.runId}/artifacts/model`
    expect(m.versions.map((v) => [v.version, v.source, v.run_id])).toEqual([['1', modelDir, r.mlflow.runId]])
    expect(server.artifacts.files.get(`1/${r.mlflow.runId}/artifacts/model/model.json`)).toEqual(
      await readFile(path.join(work, 'model', 'model.json')),
    )
    expect(logs).toContain(`MLflow: uploaded 1 model file to ${modelDir}`)
    expect(m.aliases.get('candidate')).toBe('1')
    expect(r.outlet).toEqual({
      uri: 'model://carla-prior',
      extra: {
        version: '1',
        mlflow_run_id: r.mlflow.runId,
        dataset: 'carla@v1',
        dataset_md5: pulled.md5,
        model_file: path.join(work, 'model', 'model.json'),
      },
    })
  })

  it('registering the same training run twice creates no second MLflow run and no second model version', async () => {
    const first = await trainModel(options(), { link, log, mlflow: { trackingUri: server.url } })
    // Someone moved the alias meanwhile: the run's recorded version is still reused, and the alias moved back.
    await fetch(`${server.url}/api/2.0/mlflow/model-versions/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'carla-prior', source: 's3://x/other' }),
    })
    await fetch(`${server.url}/api/2.0/mlflow/registered-models/alias`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'carla-prior', alias: 'candidate', version: '2' }),
    })
    const again = await trainModel(options(), { link, log, mlflow: { trackingUri: server.url } })
    expect(again.mlflow).toMatchObject({
      skipped: false,
      reused: true,
      versionCreated: false,
      modelVersion: '1',
      runId: (first.mlflow as { runId: string }).runId,
    })
    expect(server.runs.size).toBe(1)
    expect(server.models.get('carla-prior')!.versions).toHaveLength(2) // v1 ours, v2 the one made by hand
    expect(server.models.get('carla-prior')!.aliases.get('candidate')).toBe('1')
    expect(server.runs.values().next().value!.inputs).toHaveLength(1)
    expect(server.requests.filter((q) => q.method === 'PUT')).toHaveLength(1) // the reused version's files are not sent again
    // Another adas-forge run is another training run.
    const other = await trainModel(options(), {
      link: { ...link, runId: 'manual__2026-12-02T04:00:00Z_x1' },
      log,
      mlflow: { trackingUri: server.url },
    })
    expect(other.model.version).toBe('3')
    expect(server.runs.size).toBe(2)
  })

  it('a trainer that reports no model file gets no model version: the error says what to report', async () => {
    const noModel = { ...options(), command: [process.execPath, '-e', 'console.log(JSON.stringify({ type: "training_result", metrics: { a: 1 } }))'] }
    await expect(trainModel(noModel, { link, log, mlflow: { trackingUri: server.url } })).rejects.toThrow(/reported no model file/)
    expect(server.models.size).toBe(0)
    expect(server.runs.size).toBe(0)
  })

  it('without a tracking URI it still trains and records the model outlet, with a notice that MLflow was skipped', async () => {
    const outlets: Array<[string, unknown]> = []
    const spec = trainingRun(options())
    const ctx = {
      ...link,
      inputs: options(),
      tryNumber: 1,
      signal: new AbortController().signal,
      log,
      progress: () => {},
      outlet: (uri: string, extra: unknown) => void outlets.push([uri, extra]),
    }
    const r = await spec.run(ctx as unknown as TaskContext<unknown, never>)
    expect(r.mlflow).toEqual({ skipped: true, reason: expect.stringMatching(/MLflow is not configured/) })
    expect(logs.some((l) => /MLflow is not configured .*: the model was trained but not logged or registered in MLflow/.test(l))).toBe(true)
    expect(r.model.version).toMatch(/^local-[0-9a-f]{12}$/)
    expect(outlets).toEqual([
      [
        'model://carla-prior',
        {
          version: r.model.version,
          mlflow_run_id: null,
          dataset: 'carla@v1',
          dataset_md5: pulled.md5,
          model_file: path.join(work, 'model', 'model.json'),
        },
      ],
    ])
    expect(server.requests).toHaveLength(0)
  })
})

describe('pullAndTrain: the pull and the training in one task (one pod on Kubernetes)', () => {
  const runTask = async (pull: Record<string, unknown>, triggeringEvents: unknown[] = []) => {
    const outlets: Array<[string, unknown]> = []
    const inputs = { command: exampleTrainerCommand(), pull, outputDir: path.join(work, 'model-pod'), model: { name: 'carla-prior' } }
    const spec = pullAndTrain(inputs as Parameters<typeof pullAndTrain>[0])
    const ctx = {
      ...link,
      inputs,
      tryNumber: 1,
      signal: new AbortController().signal,
      log,
      progress: () => {},
      triggeringEvents,
      outlet: (uri: string, extra: unknown) => void outlets.push([uri, extra]),
    }
    const r = await spec.run(ctx as unknown as TaskContext<unknown, never>)
    return { r, outlets }
  }

  it('pulls the version the triggering event names into its own folder, verified, and trains on it', async () => {
    const dest = path.join(work, 'pod-disk', 'carla')
    const event = { uri: 'dataset://carla', version: 'v1', extra: { tag: 'carla@v1', md5: pulled.md5 }, sourceRunId: 'manual__x', timestamp: 1 }
    const { r, outlets } = await runTask({ repo: path.join(work, 'registry'), dataset: 'carla', dest }, [event])
    expect(JSON.parse(await readFile(path.join(dest, 'shard-0', 'labels', 'coco.json'), 'utf8')).annotations).toHaveLength(3)
    expect(logs.some((l) => /pulling carla@v1, the version whose event triggered this run \(produced by manual__x\)/.test(l))).toBe(true)
    expect(outlets).toEqual([['model://carla-prior', expect.objectContaining({ dataset: 'carla@v1', dataset_md5: pulled.md5 })]])
    expect(r.model.version).toMatch(/^local-[0-9a-f]{12}$/)
  })

  it('refuses to train when the pull fails, naming the version', async () => {
    await expect(runTask({ repo: path.join(work, 'registry'), tag: 'carla@v9', dest: path.join(work, 'pod-disk', 'x') })).rejects.toThrow(/carla@v9/)
    // The trainer never started: it would have created its output folder.
    expect(existsSync(path.join(work, 'model-pod'))).toBe(false)
  })
})
