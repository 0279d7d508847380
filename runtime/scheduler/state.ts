import type { ForgeConfig } from '../config.ts'
import type { AttemptSpec, Executor } from '../executors/executor.ts'
import type { Store } from '../store/connect.ts'
import type { SpecCache } from '../store/attempt-load.ts'
import type { Finished, Started } from '../store/attempt-record.ts'
import type { SchedulerEvent } from './events.ts'

/** An attempt this scheduler launched (or adopted) and has not yet seen end. */
export interface Tracked {
  spec: AttemptSpec
  /** The executor running it, which alone is asked about it. */
  executor: Executor
  started: number
  runPk: number
}

/**
 * What a scheduler holds between passes, beyond the database: results not yet written, the runs they touched,
 * and hints of what may have changed since the last pass. Each step reads the fields it needs and clears the
 * hints it consumed; nothing here decides which steps run.
 */
export interface SchedulerState {
  readonly id: string
  readonly config: ForgeConfig
  readonly store: Store
  /** Its executors by name (scheduler/executors.ts); `defaultExecutor` runs the instances that name none. */
  readonly executors: ReadonlyMap<string, Executor>
  readonly defaultExecutor: string
  readonly onlyRunPk?: number
  emit(e: SchedulerEvent): void
  /** Runs whose task instances changed: decided at the next pass. */
  dirty: Set<number>
  /** Runs waiting for a retry, with when it falls due (ms). */
  retryDue: Map<number, number>
  attempts: Map<string, Tracked>
  started: Started[]
  finished: Finished[]
  logs: Map<string, string>
  /** Attempts whose runners recorded their results, to be reported once the store says how they ended. */
  recordedEnds: Array<{ spec: Tracked['spec']; durationMs: number }>
  /** `dag|task|executor` of instances waiting on an executor this scheduler does not run, already reported. */
  missingExecutors: Set<string>
  /** Run rows and recorded results reused when building attempt specs; dropped when the run finishes. */
  cache: SpecCache
  hints: {
    /** A run was triggered or finished: queued runs may start. */
    runsMayStart: boolean
    /** A producer recorded a dataset event: DAGs scheduled on datasets may have runs to create. */
    datasets: boolean
    /** Look at every active run, not only dirty ones. */
    scan: boolean
    /** Work may be waiting to be claimed. */
    claim: boolean
    /** Write "running" for started attempts even with no result to ride along with. */
    writeStarted: boolean
    /** A runner recorded a result: it may have claimed a successor for this scheduler to launch. */
    unwatched: boolean
  }
  stopping: boolean
}

export function newState(
  init: Pick<SchedulerState, 'id' | 'config' | 'store' | 'executors' | 'defaultExecutor' | 'onlyRunPk' | 'emit'>,
): SchedulerState {
  return {
    ...init,
    dirty: new Set(),
    retryDue: new Map(),
    attempts: new Map(),
    started: [],
    finished: [],
    logs: new Map(),
    recordedEnds: [],
    missingExecutors: new Set(),
    cache: { runs: new Map(), results: new Map() },
    hints: { runsMayStart: true, datasets: true, scan: true, claim: true, writeStarted: false, unwatched: true },
    stopping: false,
  }
}

/** Forgets what was cached for a finished run. */
export function forgetRun(s: SchedulerState, runPk: number): void {
  s.retryDue.delete(runPk)
  s.cache.runs.delete(runPk)
  for (const key of s.cache.results.keys()) if (key.startsWith(`${runPk}|`)) s.cache.results.delete(key)
}
