import type { Outlet } from '../store/attempt-outlets.ts'
import type { AttemptSpec as StoredAttemptSpec } from '../store/attempt-spec.ts'

/**
 * The executor interface, small and async in the manner of Kysely's Driver. The scheduler claims attempts in the
 * store, builds their specs (one function does that) and launches them here; the executor starts them where it
 * runs things (a child process running `forge task run --attempt ID`, a worker thread, a Kubernetes Job) and
 * reports back through events. An attempt belongs to its executor, not to the scheduler's memory: an executor
 * never imports the scheduler, and a scheduler that restarts adopts what its executor still runs.
 * docs/executors.md describes the contract in full.
 */

/**
 * What the executor needs to start one attempt: the stored spec (store/attempt-spec.ts, built by loadAttempts and
 * nowhere else) and the absolute path of its DAG file, resolved by the launching scheduler against its DAGs folder
 * for the attempts it runs in its own process tree (threads); a runner resolves `fileloc` against its own.
 */
export interface AttemptSpec extends StoredAttemptSpec {
  file: string
}

/** An attempt in the store that is queued or running and that no live scheduler is watching. */
export interface OrphanAttempt {
  key: string
  attemptId: number
  tiId: number
  tryNumber: number
  /** The external id the executor returned at launch, if it was recorded. */
  externalId: string | null
  /** Its runner holds the attempt's liveness lock (`forge task run` does, for the whole attempt, on Postgres). */
  runnerAlive: boolean
}

/**
 * How an attempt ended, as its executor saw it:
 * - `result`: the executor ran the task itself and hands over its result, which the scheduler records;
 * - `recorded`: the attempt's runner recorded its own result under the attempt's guard; nothing is left to write;
 * - `lost`: it ended without a result (its runner died, the executor lost it); the scheduler records an
 *   infrastructure failure under the guard, which is a no-op if the runner did record after all.
 */
export type AttemptOutcome =
  | { kind: 'result'; ok: true; result: unknown; outlets?: Outlet[] }
  | { kind: 'result'; ok: false; error: string; reason: string; nonRetryable: boolean }
  /** `ok` and `reason` when its runner said how it ended; otherwise the scheduler reads them from the store. */
  | { kind: 'recorded'; ok?: boolean; reason?: string | null }
  | { kind: 'lost'; reason: string }

export type ExecutorEvent =
  | { type: 'started'; key: string; externalId: string }
  /** Output of an attempt whose log the executor holds (one that hands over a `result`). */
  | { type: 'log'; key: string; chunk: string }
  | { type: 'progress'; key: string; done: number; total: number | null; unit: string }
  | { type: 'finished'; key: string; outcome: AttemptOutcome }
  /** It can start more than it could, for a reason other than an attempt ending (a worker thread booted). */
  | { type: 'capacity' }

/** What `status` says of an attempt: still running, finished (its `finished` event was sent), or unknown to it. */
export type AttemptStatus = 'running' | 'finished' | 'unknown'

export interface Executor {
  readonly name: string
  /** How many more attempts it can start now; the scheduler claims no more than this. */
  capacity(): Promise<number>
  /**
   * Starts an attempt and returns its external id. Idempotent on `spec.key`: a second launch of a key it already
   * runs (or adopted) returns the same id and starts nothing.
   */
  launch(spec: AttemptSpec): Promise<string>
  /**
   * Stops an attempt; it still ends with a `finished` event (`reason` is the failure's reason). A reason ending in
   * FENCE_SUFFIX may be ignored by attempts whose liveness does not depend on the caller.
   */
  cancel(key: string, reason: string): Promise<void>
  /** Liveness of attempts it launched or adopted. */
  status(keys: string[]): Promise<Map<string, AttemptStatus>>
  /**
   * Takes over attempts found queued or running after a scheduler restart. Returns the keys it still runs (it
   * reports their end as for its own); the others are dead, and the caller fails them as infrastructure.
   */
  adopt(attempts: OrphanAttempt[]): Promise<string[]>
  /** Registers a listener for attempt events; returns the function that removes it. */
  onEvent(listener: (event: ExecutorEvent) => void): () => void
  /**
   * Stops starting attempts and releases what it holds. Attempts it runs in its own process are cancelled with
   * SHUTDOWN_REASON and reported; attempts that outlive the process (their runner is detached) keep running.
   */
  close(): Promise<void>
}

/** A failed result with a reason a person can act on; `nonRetryable` skips the remaining retries. */
export function failed(error: string, reason: string, nonRetryable = false): AttemptOutcome {
  return { kind: 'result', ok: false, error, reason, nonRetryable }
}

/** How long a cancelled attempt gets to clean up (destroy CARLA actors, restore settings) before it is killed. */
export const CANCEL_GRACE_MS = 5000

/**
 * How the reason of a fence ends: a scheduler that others may take for dead stops the attempts whose liveness
 * hangs on it. An attempt that proves itself alive on its own (a detached runner holding its attempt's lock)
 * may ignore such a cancel: nobody will retry it while it lives.
 */
export const FENCE_SUFFIX = 'stopped so that another scheduler can retry it'

/** The cancel reason of attempts stopped by a clean scheduler shutdown; they are requeued, not failed. */
export const SHUTDOWN_REASON = 'scheduler shutting down'

/** Calls every listener; one that throws must not break the executor (graphile-worker's safeEmit). */
export function emitTo(listeners: Iterable<(e: ExecutorEvent) => void>, event: ExecutorEvent): void {
  for (const l of listeners) {
    try {
      l(event)
    } catch {
      // ignored: see above
    }
  }
}
