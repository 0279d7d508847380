/**
 * `trainingRun(...)`: the task that trains a model on a pulled dataset version (operator 'training.run'), logs
 * and registers it in MLflow when a tracking URI is configured, and records the `model://NAME` outlet.
 * Inputs may be refs to upstream outputs (`{ dataset: pull.out }`); they are checked when the task runs.
 */
import type { FunctionTaskSpec, Ref, TaskContext } from '../../runtime/index.ts'
import { childProcessEnv, readConfigSlice } from '../../runtime/operator.ts'
import { mlflowConfig } from '../mlflow/config.ts'
import type { TrainModelInput } from './options.ts'
import { recordOutlet, type OutletContext } from './outlet.ts'
import { trainModel, type TrainEnv, type TrainedModel } from './train-model.ts'

export type TrainingRunInputs = { [K in keyof TrainModelInput]: TrainModelInput[K] | Ref<NonNullable<TrainModelInput[K]>> }

export type TrainingRunEnv = Pick<TrainEnv, 'mlflow' | 'http' | 'parentEnv'>

export function trainingRun(inputs: TrainingRunInputs, env: TrainingRunEnv = {}): FunctionTaskSpec<TrainingRunInputs, TrainedModel> {
  return {
    kind: 'function',
    operator: 'training.run',
    inputs,
    run: (ctx) => trainInTask(ctx as TrainingTaskContext, ctx.inputs as TrainModelInput, env),
  }
}

/** Trains on `input` inside a task, with the task's signal, log, progress and identity, and records the model outlet. */
/** What training needs of its task's context. */
export type TrainingTaskContext = Pick<TaskContext, 'signal' | 'log' | 'progress' | 'dagId' | 'runId' | 'taskId' | 'tryNumber'> & OutletContext

export async function trainInTask(ctx: TrainingTaskContext, input: TrainModelInput, env: TrainingRunEnv = {}): Promise<TrainedModel> {
  const trained = await trainModel(input, {
    mlflow: readConfigSlice('mlflow', mlflowConfig),
    parentEnv: childProcessEnv(),
    ...env,
    signal: ctx.signal,
    log: ctx.log,
    progress: (d, t, u) => ctx.progress(d, t, u),
    link: { dagId: ctx.dagId, runId: ctx.runId, taskId: ctx.taskId, tryNumber: ctx.tryNumber },
  })
  await recordOutlet(ctx, trained.outlet.uri, trained.outlet.extra)
  return trained
}
