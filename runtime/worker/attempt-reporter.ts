import type { AttemptOutcome } from '../store/attempt-outcome.ts'
import type { AttemptSpec } from '../store/attempt-spec.ts'
import type { LogChunk } from '../store/attempt-log.ts'

/** An attempt as its runner finds it: the spec, the attempt row's state, and the last log chunk already stored. */
export interface LoadedAttempt {
  spec: AttemptSpec
  state: string
  logSeq: number
}

/**
 * What a task runner calls to read and record its one attempt (runtime/worker/run-attempt.ts). Every write is
 * under the attempt's guard in the store, so a runner whose attempt has moved on changes nothing. Two
 * implementations: direct (direct-reporter.ts: a Postgres connection of its own, plus the session that holds the
 * attempt's advisory lock) and relay (relay-reporter.ts: over the Node IPC channel to the process that owns an
 * embedded PGlite store, which runs the same store functions; serve-attempt-reports.ts).
 */
export interface AttemptReporter {
  /** task_attempt.id of the attempt this reporter is about. */
  readonly attemptId: number
  /** The attempt, or null when there is no attempt with this id. Called first; the other calls are about it. */
  load(): Promise<LoadedAttempt | null>
  /** Takes the attempt up (queued -> running); false when it is not current or another runner holds it. */
  begin(runnerId: string, executorId: string | null): Promise<boolean>
  /** Proves the attempt alive, storing `details` when given; false when the attempt is no longer current. */
  heartbeat(details?: unknown): Promise<boolean>
  /** Stores one log chunk; a chunk repeated with the same seq is stored once. */
  log(chunk: LogChunk): Promise<void>
  /** Records the outcome; false when the guard refused it (the attempt had been given up on). */
  record(outcome: AttemptOutcome): Promise<boolean>
  /** Lets go of the attempt (its lock, its connections). */
  close(): Promise<void>
}

/** The messages of the relay (relay-reporter.ts <-> serve-attempt-reports.ts). */
export type RelayCall = { forge: 'attempt-call'; id: number; attemptId: number; method: RelayMethod; args: unknown[] }
export type RelayReply =
  { forge: 'attempt-reply'; id: number; ok: true; value: unknown } | { forge: 'attempt-reply'; id: number; ok: false; error: string }
export type RelayMethod = 'load' | 'begin' | 'heartbeat' | 'log' | 'record'
