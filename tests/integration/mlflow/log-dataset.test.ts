import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mlflowLogDataset, runLogDataset, NOT_CONFIGURED } from '../../../operators/mlflow/log-dataset.operator.ts'
import type { LogDatasetInput } from '../../../operators/mlflow/log-dataset.ts'
import type { TaskContext } from '../../../runtime/index.ts'
import { startMlflowDouble, type MlflowDouble } from '../../doubles/mlflow-server.ts'

let server: MlflowDouble
let logs: string[]
const ctx = (runId = 'manual__2026-12-02T03:00:00Z_ab12'): Pick<TaskContext, 'dagId' | 'runId' | 'taskId' | 'tryNumber' | 'log'> => ({
  dagId: 'carla_nightly_dataset',
  runId,
  taskId: 'register',
  tryNumber: 1,
  log: (m: string) => void logs.push(m),
})
const version = {
  dataset: 'carla',
  md5: 'f03ca53dff6776871f4047fb9e72f691.dir',
  tag: 'carla@v3',
  commit: '9f2c1e0d4b5a69788796a5b4c3d2e1f0a9b8c7d6',
  size: 16,
  nfiles: 3,
  remote: { url: 's3://datasets/dvcstore' },
}
const input: LogDatasetInput = {
  version,
  experiment: 'carla-datasets',
  params: { recipe: 'weather_v1', seeds: [1, 2, 3], scenarios: { towns: ['Town01', 'Town03'], weathers: ['ClearNoon'] } },
  metrics: { frames: 1200, bytes: 16, 'boxes.car': 5400, 'boxes.pedestrian': 830 },
}

beforeEach(async () => {
  logs = []
  server = await startMlflowDouble()
})
afterEach(async () => {
  await server.close()
})

describe('mlflow.log_dataset', () => {
  it('one run per build: params, metrics, tags linking the adas-forge run, and the dataset as an input', async () => {
    const r = await runLogDataset(input, { trackingUri: server.url }, ctx())
    expect(r).toMatchObject({ skipped: false, reused: false })
    if (r.skipped) throw new Error('unexpected skip')
    const got = (await (await fetch(`${server.url}/api/2.0/mlflow/runs/get?run_id=${r.runId}`)).json()) as {
      run: {
        info: { status: string; run_name: string }
        data: {
          params: Array<{ key: string; value: string }>
          metrics: Array<{ key: string; value: number }>
          tags: Array<{ key: string; value: string }>
        }
        inputs: { dataset_inputs: Array<{ tags: unknown[]; dataset: Record<string, string> }> }
      }
    }
    const run = got.run
    expect(run.info).toMatchObject({ status: 'FINISHED', run_name: 'carla@v3' })
    expect(Object.fromEntries(run.data.params.map((p) => [p.key, p.value]))).toEqual({
      recipe: 'weather_v1',
      seeds: '[1,2,3]',
      scenarios: '{"towns":["Town01","Town03"],"weathers":["ClearNoon"]}',
    })
    expect(Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]))).toEqual({
      frames: 1200,
      bytes: 16,
      'boxes.car': 5400,
      'boxes.pedestrian': 830,
    })
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]))
    expect(tags).toMatchObject({
      'adas_forge.dataset_version': 'carla@v3',
      'adas_forge.dag_id': 'carla_nightly_dataset',
      'adas_forge.run_id': 'manual__2026-12-02T03:00:00Z_ab12',
      'adas_forge.task_id': 'register',
      'dvc.md5': version.md5,
      'dvc.git_tag': 'carla@v3',
      'dvc.git_commit': version.commit,
      'mlflow.source.name': 'adas-forge',
    })
    const [di] = run.inputs.dataset_inputs
    expect(di!.tags).toEqual([{ key: 'mlflow.data.context', value: 'training' }])
    expect(di!.dataset).toMatchObject({ name: 'carla', digest: 'f03ca53dff6776871f4047fb9e72f691', source_type: 's3' })
    expect(JSON.parse(di!.dataset.source!)).toEqual({
      uri: 's3://datasets/dvcstore',
      git_tag: 'carla@v3',
      git_commit: version.commit,
      dvc_md5: version.md5,
    })
    expect(r.runUrl).toBe(`${server.url}/#/experiments/1/runs/${r.runId}`)
  })

  it('registering the same build twice creates no second run (found by its tag, reused)', async () => {
    const first = await runLogDataset(input, { trackingUri: server.url }, ctx())
    const second = await runLogDataset(input, { trackingUri: server.url }, ctx('scheduled__2026-12-03T02:00:00Z'))
    expect(second).toMatchObject({ skipped: false, reused: true, runId: (first as { runId: string }).runId })
    expect(server.runs.size).toBe(1)
    expect(server.calls('runs/create')).toHaveLength(1)
    expect(server.calls('experiments/create')).toHaveLength(1)
    const run = [...server.runs.values()][0]!
    expect(run.inputs).toHaveLength(1)
    expect(run.tags.find((t) => t.key === 'adas_forge.run_id')?.value).toBe('manual__2026-12-02T03:00:00Z_ab12')
    expect(logs.some((l) => l.includes('reusing it'))).toBe(true)

    // The same build with a different recipe is a contradiction, reported with the param named.
    await expect(runLogDataset({ ...input, params: { ...input.params, recipe: 'night_v2' } }, { trackingUri: server.url }, ctx())).rejects.toThrow(
      /already has param recipe="weather_v1"/,
    )
  })

  it('a param longer than MLflow allows is logged as its sha256, and says so', async () => {
    const big = { ...input, params: { matrix: 'x'.repeat(7000) } }
    const r = await runLogDataset(big, { trackingUri: server.url }, ctx())
    expect(r).toMatchObject({ hashedParams: ['matrix'] })
    const p = [...server.runs.values()][0]!.params.find((q) => q.key === 'matrix')!
    expect(p.value).toMatch(/^sha256:[0-9a-f]{64} \(7000 characters/)
  })

  it('with no tracking URI the step is skipped with a notice, never a silent success', async () => {
    const r = await runLogDataset(input, {}, ctx())
    expect(r).toEqual({ skipped: true, reason: NOT_CONFIGURED })
    expect(logs).toEqual([`${NOT_CONFIGURED}: skipped logging the dataset to MLflow`])
    expect(server.requests).toHaveLength(0)
  })

  it('a run whose logging fails is marked FAILED; a retry reuses it and finishes it', async () => {
    server.failNext(1, { status: 400, path: 'runs/log-inputs', body: '{"error_code": "INVALID_PARAMETER_VALUE", "message": "boom"}' })
    await expect(runLogDataset(input, { trackingUri: server.url }, ctx())).rejects.toThrow(/boom/)
    const run = [...server.runs.values()][0]!
    expect(run.info.status).toBe('FAILED')
    const again = await runLogDataset(input, { trackingUri: server.url }, ctx())
    expect(again).toMatchObject({ reused: true })
    expect(run.info.status).toBe('FINISHED')
    expect(server.runs.size).toBe(1)
  })

  it('mlflowLogDataset is an mlflow.log_dataset task spec; bad input fails naming the field', async () => {
    const spec = mlflowLogDataset({ version }, { trackingUri: server.url })
    expect(spec).toMatchObject({ kind: 'function', operator: 'mlflow.log_dataset', inputs: { version } })
    const taskCtx = {
      ...ctx(),
      inputs: { version: { ...version, md5: 'not-an-md5' } },
      signal: new AbortController().signal,
      progress: () => {},
    } as unknown as TaskContext<unknown, never>
    await expect(spec.run(taskCtx)).rejects.toMatchObject({ name: 'MlflowValidationError', field: 'version.md5', nonRetryable: true })
    await expect(runLogDataset(input, { trackingUri: 'ftp://x' }, ctx())).rejects.toMatchObject({ field: 'trackingUri' })
    await expect(runLogDataset(input, { trackingUri: server.url, username: 'u' }, ctx())).rejects.toMatchObject({ field: 'password' })
  })
})
