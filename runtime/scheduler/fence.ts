import { FENCE_SUFFIX } from '../executors/executor.ts'
import type { SchedulerState } from './state.ts'

/**
 * Self-fencing: once this scheduler may be taken for dead by the others (its liveness lock's connection dropped,
 * or it has not heartbeated for 80 % of the timeout), it stops the attempts it watches rather than let two copies
 * run at once. A timer rather than a check in the loop: the loop may be stuck in a query, and a late check comes
 * after another scheduler has already started the retry.
 */
export class Fence {
  private timer: NodeJS.Timeout | undefined
  private lastOk = Date.now()

  constructor(private s: SchedulerState) {}

  /** A heartbeat went through: re-arm the watchdog. */
  ok(): void {
    this.lastOk = Date.now()
    clearTimeout(this.timer)
    this.timer = setTimeout(
      () => this.stopAll(`lost the database for ${Math.round((Date.now() - this.lastOk) / 1000)}s`),
      this.s.config.heartbeatTimeoutMs * 0.8,
    )
    this.timer.unref()
  }

  stopAll(why: string): void {
    for (const [key, entry] of this.s.attempts) void entry.executor.cancel(key, `${why}; ${FENCE_SUFFIX}`)
  }

  close(): void {
    clearTimeout(this.timer)
  }
}
