/**
 * `pullAndTrain(...)`: one task that pulls the exact dataset version and trains on it (operator
 * 'training.pull-and-run'), for an executor whose attempts do not share a disk: on Kubernetes each attempt is a Job
 * of its own, so a `dvcPull` task's folder would not be on the training pod. The version is the one the run's
 * dataset event names unless `pull.tag` is given; every digest is verified before the trainer starts.
 *
 * ```ts
 * dag.task('train', pullAndTrain({ pull: { repo: 'registry', dataset: 'carla', dest: '/data/carla' }, command, outputDir: '/out', model: { name: 'carla-prior' } }), {
 *   executor: 'kubernetes',
 *   executorConfig: { resources: { limits: { 'nvidia.com/gpu': '1' } } },
 * })
 * ```
 */
import { pullInputFor } from '../dvc/dvc-pull.operator.ts'
import { pullDataset, type PullEnv } from '../dvc/pull.ts'
import type { FunctionTaskSpec } from '../../runtime/index.ts'
import type { TrainModelInput } from './options.ts'
import type { TrainedModel } from './train-model.ts'
import { trainInTask, type TrainingRunEnv, type TrainingRunInputs, type TrainingTaskContext } from './training-run.operator.ts'

export type PullAndTrainInputs = Omit<TrainingRunInputs, 'dataset'> & { pull: PullInput }

type PullInput = Parameters<typeof pullInputFor>[0]

export function pullAndTrain(
  inputs: PullAndTrainInputs,
  env: TrainingRunEnv & Pick<PullEnv, 'remoteStore'> = {},
): FunctionTaskSpec<PullAndTrainInputs, TrainedModel> {
  const { remoteStore, ...trainEnv } = env
  return {
    kind: 'function',
    operator: 'training.pull-and-run',
    inputs,
    run: async (ctx) => {
      const { pull, ...rest } = ctx.inputs as { pull: PullInput } & Omit<TrainModelInput, 'dataset'>
      const pulled = await pullDataset(pullInputFor(pull, ctx as typeof ctx & { triggeringEvents?: unknown }), {
        remoteStore,
        log: ctx.log,
        progress: (d, t, u) => ctx.progress(d, t, u),
        signal: ctx.signal,
      })
      return trainInTask(ctx as TrainingTaskContext, { ...rest, dataset: pulled } as TrainModelInput, trainEnv)
    },
  }
}
