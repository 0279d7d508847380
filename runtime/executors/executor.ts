import type { SerializedDag } from '../dag/serialize.ts'
import type { AttemptSpec as StoredAttemptSpec } from '../store/attempt-spec.ts'
import type { ChainSettings } from '../scheduler/chain-edge.ts'

/**
 * The executor plug-in interface (modelled on Kysely's small Dialect/Driver interfaces). The scheduler claims an
 * attempt in Postgres, then hands it here; the executor reports back through events. It never writes state with
 * code of its own: the one place a thread writes to the database (a chain edge) runs the scheduler's own
 * statement from runtime/scheduler/chain-edge.ts, so every state change stays in runtime/model + scheduler code.
 */
export interface AttemptSpec extends StoredAttemptSpec {
  /**
   * Absolute path of the DAG file, resolved by the launching scheduler against its DAGs folder for the executors
   * that run code in its own process tree (worker threads, task children); the stored spec has only `fileloc`.
   */
  file: string
  /**
   * Set by a scheduler that lets worker threads take chain edges (scheduler/chain-edge.ts): the run and DAG
   * version, and the serialized DAG itself (sent to a thread once per version, then dropped from messages).
   */
  chain?: { runPk: number; versionId: number; dag?: SerializedDag }
}

export type ExecutorEvent =
  | { type: 'started'; key: string; executorId: string }
  | { type: 'log'; key: string; chunk: string }
  | { type: 'progress'; key: string; done: number; total: number | null; unit: string }
  | { type: 'finished'; key: string; ok: true; result: unknown }
  | { type: 'finished'; key: string; ok: false; error: string; nonRetryable: boolean; reason: string }
  /**
   * The attempt succeeded and its result is already recorded (a chain edge taken by the thread that ran it);
   * `next` is its successor, already claimed and started, or null when there was none to claim.
   */
  | { type: 'chained'; key: string; value: unknown; next: AttemptSpec | null }

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
  /** Optional: let the executor's threads take chain edges themselves (Postgres stores only). */
  enableChaining?(settings: ChainSettings): void
  /** Cancels what runs and releases processes and threads. */
  close(): Promise<void>
}

/** Fails with a reason a person can act on; `nonRetryable` skips the remaining retries. */
export function failure(key: string, error: string, reason: string, nonRetryable = false): ExecutorEvent {
  return { type: 'finished', key, ok: false, error, nonRetryable, reason }
}

/** The cancel reason of attempts stopped by a clean scheduler shutdown; they are requeued, not failed. */
export const SHUTDOWN_REASON = 'scheduler shutting down'
