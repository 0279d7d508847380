import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { datasetVersionFromEvents } from '../../../operators/dvc/dataset-event.ts'
import { parseTrainModelOptions } from '../../../operators/training/options.ts'
import { parseResultLine, progressLine } from '../../../operators/training/result-line.ts'
import { trainerArgv, trainerEnv } from '../../../operators/training/train-model.ts'
import { TrainingError } from '../../../operators/training/errors.ts'

const out = path.resolve('/tmp/forge-out')

describe('the trainer result line', () => {
  it('reads metrics, params, the model and artifacts, resolved inside the output folder', () => {
    const r = parseResultLine(
      '{"type":"training_result","metrics":{"loss":0.25,"boxes.Car":3},"params":{"epochs":2},"model":"model.json","artifacts":{"stats":"sub/stats.json"}}',
      out,
    )
    expect(r).toMatchObject({
      metrics: { loss: 0.25, 'boxes.Car': 3 },
      params: { epochs: 2 },
      modelFile: path.join(out, 'model.json'),
      artifactFiles: { stats: path.join(out, 'sub', 'stats.json') },
    })
  })

  it('refuses no line, a line that is not JSON, a line of another type, and non-numeric metrics, quoting the line', () => {
    expect(() => parseResultLine(null, out)).toThrow(/printed no result line/)
    expect(() => parseResultLine('epoch 3 done', out)).toThrow(/last stdout line is not JSON: "epoch 3 done"/)
    expect(() => parseResultLine('{"type":"progress","done":1}', out)).toThrow(/result line: type: .* in /)
    expect(() => parseResultLine('{"type":"training_result","metrics":{"loss":"low"}}', out)).toThrow(/result line: metrics\.loss/)
    const err = (() => {
      try {
        parseResultLine('nope', out)
      } catch (e) {
        return e
      }
    })() as TrainingError
    expect(err).toMatchObject({ reason: 'no_result', nonRetryable: true })
  })

  it('a model or artifact path outside the output folder is refused', () => {
    expect(() => parseResultLine('{"type":"training_result","metrics":{},"model":"../../etc/passwd"}', out)).toThrow(/is not inside the folder/)
    expect(() => parseResultLine('{"type":"training_result","metrics":{},"artifacts":{"x":"/etc/passwd"}}', out)).toThrow(/is not inside the folder/)
  })

  it('progress lines are recognised, other lines are not', () => {
    expect(progressLine('{"type":"progress","done":3,"total":10,"unit":"epochs"}')).toEqual({ done: 3, total: 10, unit: 'epochs' })
    expect(progressLine('{"type":"progress","done":"x"}')).toBeNull()
    expect(progressLine('progress 3/10')).toBeNull()
  })
})

describe('the trainer command line and environment', () => {
  const o = parseTrainModelOptions({
    command: ['python3', 'train.py', '--data={dataset}', '--out', '{output}', '{tag}'],
    dataset: { dest: '/data/carla', tag: 'carla@v3', md5: 'f03ca53dff6776871f4047fb9e72f691.dir' },
    outputDir: '/models/x',
    model: { name: 'carla-prior' },
    env: { CUDA_VISIBLE_DEVICES: '0', FORGE_DATASET_PATH: '/elsewhere' },
  })

  it('fills the placeholders inside arguments, never through a shell', () => {
    expect(trainerArgv(o)).toEqual(['python3', 'train.py', '--data=/data/carla', '--out', '/models/x', 'carla@v3'])
  })

  it('passes only allowlisted parent variables, the explicit ones, and the dataset (which the explicit ones cannot override)', () => {
    const env = trainerEnv(o, { PATH: '/usr/bin', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'secret', MLFLOW_TRACKING_PASSWORD: 'pw' })
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      CUDA_VISIBLE_DEVICES: '0',
      FORGE_DATASET_PATH: '/data/carla',
      FORGE_DATASET_TAG: 'carla@v3',
      FORGE_DATASET_MD5: 'f03ca53dff6776871f4047fb9e72f691.dir',
      FORGE_OUTPUT_DIR: '/models/x',
      FORGE_MODEL_NAME: 'carla-prior',
    })
  })

  it('bad options name the field', () => {
    expect(() => parseTrainModelOptions({ command: [], dataset: {}, outputDir: 'x', model: { name: 'm' } })).toThrow(
      /training run: command: the trainer argv/,
    )
    expect(() =>
      parseTrainModelOptions({
        command: ['x'],
        dataset: { dest: '/d', tag: 'carla', md5: 'f03ca53dff6776871f4047fb9e72f691' },
        outputDir: 'x',
        model: { name: 'm' },
      }),
    ).toThrow(/training run: dataset\.tag: NAME@vN expected/)
  })
})

describe('the dataset version of a triggered run', () => {
  const ev = (uri: string, version: string, extra: Record<string, unknown>, timestamp: string) => ({
    uri,
    version,
    extra,
    sourceDagId: 'carla_nightly_dataset',
    sourceRunId: `scheduled__${timestamp}`,
    sourceTaskId: 'version',
    timestamp,
  })

  it('takes the newest event of the dataset, with its tag, md5, commit and remote', () => {
    const events = [
      ev('dataset://carla', 'v3', { md5: 'a'.repeat(32) + '.dir', tag: 'carla@v3', commit: 'c3', remote: '/srv/dvc' }, '2026-12-01T02:00:00Z'),
      ev(
        'dataset://carla',
        'v4',
        { md5: 'b'.repeat(32) + '.dir', tag: 'carla@v4', commit: 'c4', remote: { name: 'storage', url: 's3://b/dvc' } },
        '2026-12-02T02:00:00Z',
      ),
      ev('dataset://other', 'v9', { tag: 'other@v9' }, '2026-12-03T02:00:00Z'),
    ]
    expect(datasetVersionFromEvents(events, 'carla')).toEqual({
      name: 'carla',
      uri: 'dataset://carla',
      tag: 'carla@v4',
      md5: 'b'.repeat(32) + '.dir',
      commit: 'c4',
      remote: { url: 's3://b/dvc' },
      sourceRunId: 'scheduled__2026-12-02T02:00:00Z',
    })
    expect(datasetVersionFromEvents(events).tag).toBe('other@v9')
    expect(datasetVersionFromEvents([ev('dataset://carla', 'v2', {}, '2026-12-01T00:00:00Z')]).tag).toBe('carla@v2')
  })

  it('no event, or one without a version, is an error saying what to do', () => {
    expect(() => datasetVersionFromEvents(undefined, 'carla')).toThrow(
      /no dataset event for dataset:\/\/carla triggered this run: pass the version's tag/,
    )
    expect(() => datasetVersionFromEvents([{ uri: 'dataset://carla', extra: {} }])).toThrow(/names no version tag/)
  })
})
