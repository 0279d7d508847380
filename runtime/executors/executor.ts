import type { SerializedTask } from '../dag/serialize.ts'

/**
 * The executor plug-in interface (modelled on Kysely's small Dialect/Driver interfaces). The scheduler claims an
 * attempt in Postgres, then hands it here; the executor reports back through events and never touches the
 * database itself, so every state change stays in runtime/model + scheduler code.
 */
export interface AttemptSpec {
  /** `${taskInstanceId}:${tryNumber}`: unique per attempt. */
  key: string
  tiId: number
  tryNumber: number
  maxTries: number
  dagId: string
  runId: string
  taskId: string
  mapIndex: number
  /** Absolute path of the DAG file the task's code lives in, and the version hash to bust module caches. */
  file: string
  versionTag: string
  task: SerializedTask
  params: unknown
  inputs: unknown
  item: unknown
  logicalDate: string
  dataIntervalStart: string
  dataIntervalEnd: string
}

export type ExecutorEvent =
  | { type: 'started'; key: string; executorId: string }
  | { type: 'log'; key: string; chunk: string }
  | { type: 'progress'; key: string; done: number; total: number | null; unit: string }
  | { type: 'finished'; key: string; ok: true; result: unknown }
  | { type: 'finished'; key: string; ok: false; error: string; nonRetryable: boolean; reason: string }

export interface Executor {
  readonly name: string
  /** How many more attempts it will take now. */
  freeSlots(): number
  /** Attempts started and not yet finished. */
  running(): number
  start(spec: AttemptSpec): void
  /** Stops an attempt; it still reports `finished` (ok: false) with `reason`. */
  cancel(key: string, reason: string): void
  onEvent(listener: (event: ExecutorEvent) => void): void
  /** Cancels what runs and releases processes and threads. */
  close(): Promise<void>
}

/** Fails with a reason a person can act on; `nonRetryable` skips the remaining retries. */
export function failure(key: string, error: string, reason: string, nonRetryable = false): ExecutorEvent {
  return { type: 'finished', key, ok: false, error, nonRetryable, reason }
}

/** The cancel reason of attempts stopped by a clean scheduler shutdown; they are requeued, not failed. */
export const SHUTDOWN_REASON = 'scheduler shutting down'
