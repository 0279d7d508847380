/**
 * `dvcPull(...)`: the task that pulls one exact dataset version into a folder (operator 'dvc.pull'). Without a
 * `tag`, the version is the one the run's dataset event names (for `dataset` when given), and that event's
 * remote is used unless one is passed.
 */
import type { FunctionTaskSpec, Ref, TaskContext } from '../../runtime/index.ts'
import { datasetVersionFromEvents } from './dataset-event.ts'
import { pullDataset, type PullEnv, type PulledDataset } from './pull.ts'
import type { DvcPullInput } from './pull-options.ts'

type Refs<T> = { [K in keyof T]: T[K] | Ref<NonNullable<T[K]>> }
export type DvcPullInputs = Refs<Omit<DvcPullInput, 'tag'> & { tag?: string; dataset?: string }>

type Resolved = Omit<DvcPullInput, 'tag'> & { tag?: string; dataset?: string }

/** The pull options for a task: the explicit tag, else the triggering event's version and remote. */
export function pullInputFor(inputs: Resolved, ctx: Pick<TaskContext, 'log'> & { triggeringEvents?: unknown }): DvcPullInput {
  const { dataset, ...rest } = inputs
  if (rest.tag) return { ...rest, tag: rest.tag }
  const ev = datasetVersionFromEvents(ctx.triggeringEvents, dataset)
  ctx.log(`pulling ${ev.tag}, the version whose event triggered this run${ev.sourceRunId ? ` (produced by ${ev.sourceRunId})` : ''}`)
  return { ...rest, tag: ev.tag, remote: rest.remote ?? ev.remote ?? undefined }
}

export function dvcPull(inputs: DvcPullInputs, env: Pick<PullEnv, 'remoteStore'> = {}): FunctionTaskSpec<DvcPullInputs, PulledDataset> {
  return {
    kind: 'function',
    operator: 'dvc.pull',
    inputs,
    run: (ctx) =>
      pullDataset(pullInputFor(ctx.inputs as Resolved, ctx as typeof ctx & { triggeringEvents?: unknown }), {
        ...env,
        log: ctx.log,
        progress: (d, t, u) => ctx.progress(d, t, u),
        signal: ctx.signal,
      }),
    settings: { retries: 2, retryDelay: '30s', retryBackoff: 'exponential' },
  }
}
