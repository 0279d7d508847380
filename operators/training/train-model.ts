/**
 * A training run end to end: run the trainer on the pulled dataset version, read its result line, log the run
 * to MLflow with the dataset as its input and register the model version with an alias, and describe the
 * `model://NAME` outlet that links the model version to the dataset version. Without a tracking URI the model
 * is still trained and the outlet still described, with a notice that MLflow was skipped.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { TaskContext } from '../../runtime/index.ts'
import {
  MlflowClient,
  NOT_CONFIGURED,
  parseConnection,
  type ArtifactFile,
  type ForgeLink,
  type HttpEnv,
  type MlflowConnectionInput,
} from '../mlflow/index.ts'
import { logTraining, type LoggedTraining } from './log-training.ts'
import { parseTrainModelOptions, type TrainModelInput, type TrainModelOptions } from './options.ts'
import { parseResultLine, progressLine, type TrainingResult } from './result-line.ts'
import { runProcess } from './run-process.ts'

export interface TrainEnv {
  signal?: AbortSignal
  log?: TaskContext['log']
  progress?(done: number, total: number | null, unit: string): void
  /** The adas-forge run this training belongs to (tags, and the key that makes registration idempotent). */
  link: ForgeLink
  /** The MLflow connection; without a tracking URI MLflow is skipped, visibly. */
  mlflow?: MlflowConnectionInput
  http?: HttpEnv
  /** The environment the allowlisted variables are copied from (the runtime's configuration hands it in). */
  parentEnv?: Readonly<Record<string, string | undefined>>
}

export interface ModelOutlet {
  uri: string
  extra: { version: string; mlflow_run_id: string | null; dataset: string; dataset_md5: string; model_file: string | null }
}

export interface TrainedModel {
  model: { name: string; version: string; alias: string | null }
  dataset: { tag: string; md5: string; path: string }
  metrics: Record<string, number>
  params: Record<string, string | number | boolean>
  modelFile: string | null
  artifacts: Record<string, string>
  mlflow: (LoggedTraining & { skipped: false }) | { skipped: true; reason: string }
  outlet: ModelOutlet
}

/** The trainer's environment: allowlisted parent variables, then the explicit ones, then the dataset's. */
export function trainerEnv(o: TrainModelOptions, parentEnv: Readonly<Record<string, string | undefined>> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of o.envAllowlist) if (parentEnv[name] !== undefined) env[name] = parentEnv[name]!
  return {
    ...env,
    ...o.env,
    FORGE_DATASET_PATH: path.resolve(o.dataset.dest),
    FORGE_DATASET_TAG: o.dataset.tag,
    FORGE_DATASET_MD5: o.dataset.md5,
    FORGE_OUTPUT_DIR: path.resolve(o.outputDir),
    FORGE_MODEL_NAME: o.model.name,
  }
}

export function trainerArgv(o: TrainModelOptions): string[] {
  const values: Record<string, string> = {
    dataset: path.resolve(o.dataset.dest),
    tag: o.dataset.tag,
    md5: o.dataset.md5,
    output: path.resolve(o.outputDir),
  }
  return o.command.map((arg) => arg.replace(/\{(dataset|tag|md5|output)\}/g, (_, k: string) => values[k]!))
}

/** Without a registry, a version named by the model file's content (or the result's), so a retry names the same one. */
async function localVersion(result: TrainingResult): Promise<string> {
  const bytes = result.modelFile ? await readFile(result.modelFile) : Buffer.from(JSON.stringify({ metrics: result.metrics, params: result.params }))
  return `local-${createHash('md5').update(bytes).digest('hex').slice(0, 12)}`
}

/** The model file and artifacts the trainer reported, placed under `model/` as they lie in the output folder. */
export function modelFiles(outputDir: string, result: Pick<TrainingResult, 'modelFile' | 'artifactFiles'>): ArtifactFile[] {
  const files = [...new Set([result.modelFile, ...Object.values(result.artifactFiles)].filter((f): f is string => f !== null))]
  return files.map((file) => ({ path: `model/${path.relative(path.resolve(outputDir), file).split(path.sep).join('/')}`, file }))
}

export async function trainModel(input: TrainModelInput, env: TrainEnv): Promise<TrainedModel> {
  const o = parseTrainModelOptions(input)
  const log = env.log ?? (() => {})
  const conn = parseConnection(env.mlflow) // a bad connection fails before hours of training, not after
  await mkdir(o.outputDir, { recursive: true })
  log(`training ${o.model.name} on ${o.dataset.tag} (${o.dataset.md5}) from ${path.resolve(o.dataset.dest)}`)
  const proc = await runProcess(
    { argv: trainerArgv(o), cwd: o.cwd, env: trainerEnv(o, env.parentEnv), killGraceMs: o.killGraceMs },
    {
      signal: env.signal,
      log,
      onStdout: (line) => {
        const p = progressLine(line)
        if (p) env.progress?.(p.done, p.total, p.unit)
      },
    },
  )
  const result = parseResultLine(proc.lastLine, path.resolve(o.outputDir))
  const params = { ...result.params, ...o.params, dataset: o.dataset.tag }
  let mlflow: TrainedModel['mlflow']
  if (!conn.trackingUri) {
    log(`${NOT_CONFIGURED}: the model was trained but not logged or registered in MLflow`, { skipped: true })
    mlflow = { skipped: true, reason: NOT_CONFIGURED }
  } else {
    const client = new MlflowClient(
      { ...conn, trackingUri: conn.trackingUri },
      {
        ...env.http,
        onRetry: env.http?.onRetry ?? ((r) => log(`MLflow ${r.endpoint} failed (${r.error.errorCode}); retry ${r.attempt} in ${r.delayMs} ms`)),
      },
    )
    try {
      mlflow = {
        skipped: false,
        ...(await logTraining(
          client,
          { options: o, params, metrics: result.metrics, link: env.link, modelFiles: modelFiles(o.outputDir, result) },
          log,
        )),
      }
    } finally {
      await client.close()
    }
  }
  const version = mlflow.skipped ? await localVersion(result) : mlflow.modelVersion
  return {
    model: { name: o.model.name, version, alias: mlflow.skipped ? null : o.model.alias },
    dataset: { tag: o.dataset.tag, md5: o.dataset.md5, path: path.resolve(o.dataset.dest) },
    metrics: result.metrics,
    params,
    modelFile: result.modelFile,
    artifacts: result.artifactFiles,
    mlflow,
    outlet: {
      uri: `model://${o.model.name}`,
      extra: {
        version,
        mlflow_run_id: mlflow.skipped ? null : mlflow.runId,
        dataset: o.dataset.tag,
        dataset_md5: o.dataset.md5,
        model_file: result.modelFile,
      },
    },
  }
}
