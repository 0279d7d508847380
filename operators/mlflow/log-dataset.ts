/**
 * One MLflow run per dataset build: params (scenario matrix, recipe, seeds…), metrics (frames, boxes per class,
 * bytes), the dataset as a run input (digest = the DVC md5 without '.dir', source = the remote and git tag,
 * docs/mlflow-rest.md §3.4) and tags linking the adas-forge run. A build already logged (found by its
 * `adas_forge.dataset_version` tag) is reused, so a retried or re-run task creates no second run.
 */
import { createHash } from 'node:crypto'
import { z, type TaskContext } from '../../runtime/index.ts'
import type { MlflowClient } from './client.ts'
import { MlflowError, MlflowValidationError } from './errors.ts'
import { LIMITS } from './limits.ts'
import type { KeyValue, Metric, Run } from './types.ts'

/** The parts of a DVC dataset version this step reads (the dvc operator's result fits). */
export const datasetVersionSchema = z.object({
  /** Dataset name; default: the tag's part before '@'. */
  dataset: z.string().min(1).max(LIMITS.datasetNameLength).nullish(),
  /** The DVC md5, with or without '.dir'. */
  md5: z.string().regex(/^[0-9a-f]{32}(\.dir)?$/, 'md5: 32 lowercase hex digits, optionally followed by .dir'),
  tag: z.string().min(1).nullish(),
  commit: z.string().nullish(),
  size: z.number().nullish(),
  nfiles: z.number().nullish(),
  remote: z.object({ url: z.string().min(1) }).nullish(),
})

const paramValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown()), z.record(z.string(), z.unknown())])

export const logDatasetSchema = z.object({
  version: datasetVersionSchema,
  experiment: z.string().min(1).max(500).default('adas-forge-datasets'),
  runName: z.string().min(1).optional(),
  /** Logged as params; objects and arrays as compact JSON, hashed when longer than MLflow's 6000 characters. */
  params: z.record(z.string(), paramValue).default({}),
  metrics: z.record(z.string(), z.number()).default({}),
  tags: z.record(z.string(), z.string()).default({}),
  /** The input's `mlflow.data.context` tag (default 'training'). */
  context: z.string().min(1).max(LIMITS.inputTagValueLength).default('training'),
})

export type LogDatasetInput = z.input<typeof logDatasetSchema>

export interface ForgeLink {
  dagId: string
  runId: string
  taskId?: string
  tryNumber?: number
}

export interface LoggedDataset {
  skipped: false
  experimentId: string
  runId: string
  /** True when the build had been logged before and that run was reused. */
  reused: boolean
  runUrl: string
  /** Params whose value was too long and was logged as its sha256 instead. */
  hashedParams: string[]
}

export const BUILD_TAG = 'adas_forge.dataset_version'

export function paramString(v: z.infer<typeof paramValue>): string {
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** The run input's source (the remote's URL, git tag and commit, the DVC md5, as JSON) and its type (the URL scheme). */
export function datasetSource(v: z.infer<typeof datasetVersionSchema>): { sourceType: string; source: string } {
  const url = v.remote?.url
  const scheme = url && /^([a-z][a-z0-9+.-]*):\/\//.exec(url)?.[1]
  const source: Record<string, string> = {}
  if (url) source.uri = url
  if (v.tag) source.git_tag = v.tag
  if (v.commit) source.git_commit = v.commit
  source.dvc_md5 = v.md5
  return { sourceType: scheme || 'local', source: JSON.stringify(source) }
}

/**
 * The params a reused run does not have yet; one it has with another value is an error naming it (MLflow refuses
 * to change a param, docs/mlflow-rest.md §3.3).
 */
export function paramsNotLogged(run: Run, params: KeyValue[], what: string): KeyValue[] {
  const logged = new Map((run.data.params ?? []).map((p) => [p.key, p.value]))
  return params.filter((p) => {
    const before = logged.get(p.key)
    if (before !== undefined && before !== p.value) {
      throw new MlflowValidationError(
        `MLflow run ${run.info.run_id} of ${what} already has param ${p.key}=${JSON.stringify(before.slice(0, 80))}; this one says ${JSON.stringify(p.value.slice(0, 80))}`,
        'POST runs/log-batch',
        `params.${p.key}`,
      )
    }
    return before === undefined
  })
}

export async function logDatasetBuild(
  client: MlflowClient,
  input: LogDatasetInput,
  link: ForgeLink,
  log: TaskContext['log'] = () => {},
): Promise<LoggedDataset> {
  const parsed = logDatasetSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new MlflowValidationError(`mlflow.log_dataset: ${issue.path.join('.')}: ${issue.message}`, '(input)', issue.path.join('.'))
  }
  const opts = parsed.data
  const v = opts.version
  const digest = v.md5.replace(/\.dir$/, '')
  const name = v.dataset ?? v.tag?.split('@')[0] ?? 'dataset'
  const buildKey = v.tag ?? `${name}:${digest}`
  if (!/^[\w.@:-]+$/.test(buildKey))
    throw new MlflowValidationError(
      `dataset version ${JSON.stringify(buildKey)}: only letters, digits and . _ - @ : can be searched for`,
      '(input)',
      'version.tag',
    )

  const hashedParams: string[] = []
  const params: KeyValue[] = Object.entries(opts.params).map(([key, raw]) => {
    let value = paramString(raw)
    if (value.length > LIMITS.paramValueLength) {
      hashedParams.push(key)
      value = `sha256:${createHash('sha256').update(value).digest('hex')} (${value.length} characters, too long for an MLflow param)`
    }
    return { key, value }
  })
  const now = Date.now()
  const metrics: Metric[] = Object.entries(opts.metrics).map(([key, value]) => ({ key, value, timestamp: now, step: 0 }))
  const linkTags: KeyValue[] = [
    { key: BUILD_TAG, value: buildKey },
    { key: 'adas_forge.dag_id', value: link.dagId },
    { key: 'adas_forge.run_id', value: link.runId },
    ...(link.taskId ? [{ key: 'adas_forge.task_id', value: link.taskId }] : []),
    { key: 'dvc.md5', value: v.md5 },
    ...(v.tag ? [{ key: 'dvc.git_tag', value: v.tag }] : []),
    ...(v.commit ? [{ key: 'dvc.git_commit', value: v.commit }] : []),
    ...(v.remote?.url ? [{ key: 'dvc.remote', value: v.remote.url }] : []),
  ]
  const userTags: KeyValue[] = Object.entries(opts.tags).map(([key, value]) => ({ key, value }))

  const experiment = await client.getOrCreateExperiment(opts.experiment)
  const found = await client.searchRuns({
    experimentIds: [experiment.experiment_id],
    filter: `tags.\`${BUILD_TAG}\` = '${buildKey}'`,
    maxResults: 1,
    orderBy: ['attributes.start_time ASC'],
  })
  let run: Run
  let reused = false
  if (found[0]) {
    run = found[0]
    reused = true
    log(`MLflow: build ${buildKey} was logged before as run ${run.info.run_id}; reusing it`)
  } else {
    run = await client.createRun({
      experimentId: experiment.experiment_id,
      runName: opts.runName ?? buildKey,
      startTime: now,
      tags: [{ key: 'mlflow.source.name', value: 'adas-forge' }, { key: 'mlflow.source.type', value: 'JOB' }, ...linkTags],
    })
  }
  const runId = run.info.run_id
  try {
    const fresh = paramsNotLogged(run, params, `build ${buildKey}`)
    // A reused run keeps the link to the adas-forge run that first logged it.
    await client.logBatch(runId, { params: fresh, metrics, tags: userTags })
    const { sourceType, source } = datasetSource(v)
    await client.logInputs(runId, [
      {
        tags: [{ key: 'mlflow.data.context', value: opts.context }],
        dataset: {
          name,
          digest,
          source_type: sourceType,
          source,
          profile: JSON.stringify({ num_files: v.nfiles ?? null, num_bytes: v.size ?? null }),
        },
      },
    ])
    if (run.info.status !== 'FINISHED') await client.updateRun(runId, { status: 'FINISHED', endTime: Date.now() })
  } catch (err) {
    if (!reused && err instanceof MlflowError) await client.updateRun(runId, { status: 'FAILED', endTime: Date.now() }).catch(() => {})
    throw err
  }
  const runUrl = `${client.http.connection.trackingUri.replace(/\/+$/, '')}/#/experiments/${experiment.experiment_id}/runs/${runId}`
  log(`MLflow: ${reused ? 'updated' : 'logged'} dataset ${name} (${digest}) as run ${runId}`, { runUrl })
  return { skipped: false, experimentId: experiment.experiment_id, runId, reused, runUrl, hashedParams }
}
