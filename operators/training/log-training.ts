/**
 * One MLflow run per training run (docs/mlflow-rest.md §3-4): params, metrics, the dataset version as the run's
 * input (digest = the DVC md5 without '.dir', source = the remote URL and git tag), tags linking the adas-forge
 * run, the trainer's model files uploaded as the run's `model/` artifacts (through the server's artifact proxy, so
 * the version's source points at bytes the server holds), and the model version registered with an alias. The run is found again by its `adas_forge.training_run`
 * tag (dag, run and task of adas-forge), so a retried or repeated registration reuses the run and the model
 * version it recorded, and never makes a second one.
 */
import type { TaskContext } from '../../runtime/index.ts'
import {
  datasetSource,
  paramsNotLogged,
  paramString,
  registerModelVersion,
  uploadRunArtifacts,
  MlflowError,
  MlflowValidationError,
  type ArtifactFile,
  type ForgeLink,
  type KeyValue,
  type MlflowClient,
  type Run,
} from '../mlflow/index.ts'
import type { TrainModelOptions } from './options.ts'

export const TRAINING_TAG = 'adas_forge.training_run'
export const MODEL_VERSION_TAG = 'adas_forge.model_version'

export interface LoggedTraining {
  experimentId: string
  runId: string
  runUrl: string
  /** True when the training run had been logged before and that MLflow run was reused. */
  reused: boolean
  modelVersion: string
  /** False when the version registered earlier for this run was reused. */
  versionCreated: boolean
}

export interface TrainingRecord {
  options: TrainModelOptions
  params: Record<string, string | number | boolean>
  metrics: Record<string, number>
  link: ForgeLink
  /** The trainer's model file and artifacts, as `model/<path in the output folder>`; uploaded unless the model names its source. */
  modelFiles: ArtifactFile[]
}

export const trainingKey = (link: ForgeLink): string => `${link.dagId}/${link.runId}/${link.taskId ?? ''}`

export async function logTraining(client: MlflowClient, rec: TrainingRecord, log: TaskContext['log'] = () => {}): Promise<LoggedTraining> {
  const { options: o, link } = rec
  const key = trainingKey(link)
  if (key.includes("'")) throw new MlflowValidationError(`training run ${JSON.stringify(key)}: a quote cannot be searched for`, '(input)', 'link')
  if (!o.model.source && rec.modelFiles.length === 0)
    throw new MlflowValidationError(
      `the trainer reported no model file: a model version must point at bytes (name the file as "model" in the result line, or give model.source)`,
      '(input)',
      'model',
    )
  const d = o.dataset
  const name = d.dataset ?? d.tag.split('@')[0]!
  const experiment = await client.getOrCreateExperiment(o.experiment)
  const [found] = await client.searchRuns({
    experimentIds: [experiment.experiment_id],
    filter: `tags.\`${TRAINING_TAG}\` = '${key}'`,
    maxResults: 1,
    orderBy: ['attributes.start_time ASC'],
  })
  const now = Date.now()
  const run: Run =
    found ??
    (await client.createRun({
      experimentId: experiment.experiment_id,
      runName: `${o.model.name} on ${d.tag}`,
      startTime: now,
      tags: [
        { key: 'mlflow.source.name', value: 'adas-forge' },
        { key: 'mlflow.source.type', value: 'JOB' },
        { key: TRAINING_TAG, value: key },
        { key: 'adas_forge.dag_id', value: link.dagId },
        { key: 'adas_forge.run_id', value: link.runId },
        ...(link.taskId ? [{ key: 'adas_forge.task_id', value: link.taskId }] : []),
        { key: 'dvc.git_tag', value: d.tag },
        { key: 'dvc.md5', value: d.md5 },
        ...(d.commit ? [{ key: 'dvc.git_commit', value: d.commit }] : []),
        ...(d.remote?.url ? [{ key: 'dvc.remote', value: d.remote.url }] : []),
      ],
    }))
  const runId = run.info.run_id
  if (found) log(`MLflow: training run ${key} was logged before as run ${runId}; reusing it`)
  try {
    const params: KeyValue[] = Object.entries(rec.params).map(([k, v]) => ({ key: k, value: paramString(v) }))
    const metrics = Object.entries(rec.metrics).map(([k, value]) => ({ key: k, value, timestamp: now, step: 0 }))
    await client.logBatch(runId, { params: paramsNotLogged(run, params, `training run ${key}`), metrics })
    const { sourceType, source } = datasetSource({ dataset: name, md5: d.md5, tag: d.tag, commit: d.commit, remote: d.remote })
    await client.logInputs(runId, [
      {
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
        dataset: {
          name,
          digest: d.md5.replace(/\.dir$/, ''),
          source_type: sourceType,
          source,
          profile: JSON.stringify({ num_files: d.nfiles ?? null, num_bytes: d.size ?? null }),
        },
      },
    ])
    const recorded = run.data.tags?.find((t) => t.key === MODEL_VERSION_TAG)?.value
    let modelVersion: string
    let versionCreated = false
    if (recorded) {
      modelVersion = recorded
      await client.setAlias(o.model.name, o.model.alias, recorded)
      log(`MLflow: ${o.model.name} version ${recorded} was registered for this run before; alias ${o.model.alias} points at it`)
    } else {
      const source = o.model.source ?? (await uploadModel(client, run, rec.modelFiles, log))
      const r = await registerModelVersion(client, {
        name: o.model.name,
        source,
        runId,
        alias: o.model.alias,
        tags: [
          { key: 'dataset', value: d.tag },
          { key: 'dataset.digest', value: d.md5.replace(/\.dir$/, '') },
          { key: TRAINING_TAG, value: key },
        ],
      })
      modelVersion = r.version.version
      versionCreated = r.created
      await client.logBatch(runId, { tags: [{ key: MODEL_VERSION_TAG, value: modelVersion }] })
    }
    if (run.info.status !== 'FINISHED') await client.updateRun(runId, { status: 'FINISHED', endTime: Date.now() })
    const runUrl = `${client.http.connection.trackingUri.replace(/\/+$/, '')}/#/experiments/${experiment.experiment_id}/runs/${runId}`
    log(`MLflow: ${o.model.name} version ${modelVersion} (alias ${o.model.alias}) from run ${runId}, trained on ${d.tag}`, { runUrl })
    return { experimentId: experiment.experiment_id, runId, runUrl, reused: Boolean(found), modelVersion, versionCreated }
  } catch (err) {
    if (!found && err instanceof MlflowError) await client.updateRun(runId, { status: 'FAILED', endTime: Date.now() }).catch(() => {})
    throw err
  }
}

/** Uploads the model files as the run's `model/` artifacts and returns that folder's URI (the version's source). */
async function uploadModel(client: MlflowClient, run: Run, files: ArtifactFile[], log: TaskContext['log']): Promise<string> {
  const artifactUri = run.info.artifact_uri ?? ''
  await uploadRunArtifacts(client, artifactUri, files)
  const source = `${artifactUri.replace(/\/+$/, '')}/model`
  log(`MLflow: uploaded ${files.length} model file${files.length === 1 ? '' : 's'} to ${source}`)
  return source
}
