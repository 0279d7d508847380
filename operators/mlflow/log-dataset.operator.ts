/**
 * `mlflowLogDataset(...)`: the task that records a dataset build in MLflow (operator 'mlflow.log_dataset').
 * Without a tracking URI it logs a notice and returns `{ skipped: true }`: a visible skip, never a silent
 * success. The connection comes from the caller's configuration; nothing here reads the environment.
 */
import type { FunctionTaskSpec, Ref, TaskContext } from '../../runtime/index.ts'
import { readConfigSlice } from '../../runtime/operator.ts'
import { MlflowClient } from './client.ts'
import { mlflowConfig } from './config.ts'
import type { HttpEnv } from './http.ts'
import { logDatasetBuild, type LogDatasetInput, type LoggedDataset } from './log-dataset.ts'
import { parseConnection, type MlflowConnectionInput } from './options.ts'

export interface SkippedStep {
  skipped: true
  reason: string
}

export type LogDatasetInputs = { [K in keyof LogDatasetInput]: LogDatasetInput[K] | Ref<NonNullable<LogDatasetInput[K]>> }

export const NOT_CONFIGURED = 'MLflow is not configured (no tracking URI, MLFLOW_TRACKING_URI unset)'

/** Runs the step for one task context; exported for callers that are not tasks (the CLI, tests). */
export async function runLogDataset(
  input: LogDatasetInput,
  connection: MlflowConnectionInput | undefined,
  ctx: Pick<TaskContext, 'dagId' | 'runId' | 'taskId' | 'tryNumber' | 'log'>,
  env: HttpEnv = {},
): Promise<LoggedDataset | SkippedStep> {
  const conn = parseConnection(connection)
  if (!conn.trackingUri) {
    ctx.log(`${NOT_CONFIGURED}: skipped logging the dataset to MLflow`, { skipped: true })
    return { skipped: true, reason: NOT_CONFIGURED }
  }
  const client = new MlflowClient(
    { ...conn, trackingUri: conn.trackingUri },
    {
      ...env,
      onRetry: env.onRetry ?? ((r) => ctx.log(`MLflow ${r.endpoint} failed (${r.error.errorCode}); retry ${r.attempt} in ${r.delayMs} ms`)),
    },
  )
  try {
    return await logDatasetBuild(client, input, { dagId: ctx.dagId, runId: ctx.runId, taskId: ctx.taskId, tryNumber: ctx.tryNumber }, ctx.log)
  } finally {
    await client.close()
  }
}

export function mlflowLogDataset(
  inputs: LogDatasetInputs,
  connection?: MlflowConnectionInput,
  env: HttpEnv = {},
): FunctionTaskSpec<LogDatasetInputs, LoggedDataset | SkippedStep> {
  return {
    kind: 'function',
    operator: 'mlflow.log_dataset',
    inputs,
    // Without a connection given here, the one configured for this attempt (MLFLOW_TRACKING_URI, …) is used.
    run: (ctx) => runLogDataset(ctx.inputs as LogDatasetInput, connection ?? readConfigSlice('mlflow', mlflowConfig), ctx, env),
    settings: { retries: 2, retryDelay: '30s', retryBackoff: 'exponential' },
  }
}
