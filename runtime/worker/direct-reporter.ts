import type { AttemptKey } from '../store/attempt-begin.ts'
import { beginAttempt } from '../store/attempt-begin.ts'
import { heartbeatAttempt } from '../store/attempt-heartbeat.ts'
import { loadAttempt } from '../store/attempt-load.ts'
import { takeAttemptLock, type AttemptLock } from '../store/attempt-lock.ts'
import { appendLogChunks, lastLogSeq, type LogChunk } from '../store/attempt-log.ts'
import { recordOutcome, type AttemptOutcome } from '../store/attempt-outcome.ts'
import type { AttemptSpec } from '../store/attempt-spec.ts'
import { openPostgres, type Store } from '../store/connect.ts'
import type { AttemptReporter, LoadedAttempt } from './attempt-reporter.ts'

/**
 * The reporter of a runner with a Postgres store: a small pool of its own for the writes, and a dedicated session
 * that holds `pg_advisory_lock(ATTEMPT_LOCK_CLASS, attemptId)` from begin() to close(). A second runner of the
 * same attempt cannot take the lock and is refused; and when this process dies, Postgres drops the session and
 * the lock with it, which is how an executor tells a dead runner from a live one (store/attempt-lock.ts).
 */
export class DirectAttemptReporter implements AttemptReporter {
  private store: Store | null = null
  private spec: AttemptSpec | null = null
  private lock: AttemptLock | null = null

  constructor(
    private url: string,
    readonly attemptId: number,
    private xcomMaxBytes: number,
  ) {}

  private async db() {
    this.store ??= await openPostgres(this.url, { poolSize: 2 })
    return this.store.db
  }

  private key(): AttemptKey {
    if (!this.spec) throw new Error('load() the attempt first')
    return { attemptId: this.attemptId, tiId: this.spec.tiId, tryNumber: this.spec.tryNumber }
  }

  async load(): Promise<LoadedAttempt | null> {
    const db = await this.db()
    const found = await loadAttempt(db, this.attemptId)
    if (!found) return null
    this.spec = found.spec
    return { ...found, logSeq: await lastLogSeq(db, this.attemptId) }
  }

  async begin(runnerId: string, executorId: string | null): Promise<boolean> {
    const key = this.key()
    this.lock ??= await takeAttemptLock(this.url, this.attemptId)
    if (!this.lock) return false
    return beginAttempt(await this.db(), key, runnerId, executorId)
  }

  async heartbeat(details?: unknown): Promise<boolean> {
    return heartbeatAttempt(await this.db(), this.key(), details)
  }

  async log(chunk: LogChunk): Promise<void> {
    await appendLogChunks(await this.db(), this.attemptId, [chunk])
  }

  async record(outcome: AttemptOutcome): Promise<boolean> {
    this.key()
    return (await recordOutcome(await this.db(), this.spec!, outcome, this.xcomMaxBytes)).recorded
  }

  async close(): Promise<void> {
    await this.lock?.release()
    this.lock = null
    await this.store?.close()
    this.store = null
  }
}
