import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { ForgeConfig } from '../config.ts'
import type { Executor } from '../executors/executor.ts'
import type { Store } from '../store/connect.ts'
import { countActiveRuns } from '../store/run.repo.ts'
import { onExecutorEvent } from './attempt-events.ts'
import type { SchedulerEvent } from './events.ts'
import { Fence } from './fence.ts'
import { announce, heartbeatAttempts, reapAndAdopt } from './liveness.ts'
import { schedulingPass } from './pass.ts'
import { flushResults } from './record-results.ts'
import { newState, type SchedulerState } from './state.ts'
import { Wakeup } from './wakeup.ts'

export type { SchedulerEvent } from './events.ts'

export interface SchedulerOptions {
  config: ForgeConfig
  store: Store
  executor: Executor
  /** Re-processes the DAG folder (the scheduler itself never imports DAG files). */
  refreshDags?: () => Promise<void>
  onEvent?: (e: SchedulerEvent) => void
  /** Work on this run only and create no scheduled runs (`forge dags test`, `npm start`, `trigger --wait`). */
  onlyRunPk?: number
}

/**
 * The scheduler loop (STYLE: graphile-worker's doNext + Airflow's _do_scheduling): a scheduling pass, then, when
 * due, heartbeats and the reaper (which also adopts attempts of dead schedulers). It sleeps only when a pass did
 * nothing, and wakes on NOTIFY, on an attempt's end, or when a retry falls due. It holds nothing that is not also
 * in the database apart from results not yet written, whose attempts another scheduler retries if this one dies.
 */
export class Scheduler {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  private wake = new Wakeup()
  private s: SchedulerState

  constructor(private o: SchedulerOptions) {
    const emit = (e: SchedulerEvent) => {
      try {
        o.onEvent?.(e)
      } catch {
        // listeners must not break the loop
      }
    }
    this.s = newState({ id: this.id, config: o.config, store: o.store, executor: o.executor, onlyRunPk: o.onlyRunPk, emit })
    o.executor.onEvent((e) => onExecutorEvent(this.s, e, () => this.wake.fire()))
  }

  stop(): void {
    this.s.stopping = true
    this.wake.fire()
  }

  /** One scheduling pass (pass.ts); `periodic` passes look at everything. */
  tick(now = new Date(), periodic = true): Promise<number> {
    return schedulingPass(this.s, now, periodic)
  }

  /** Runs until stop(), or with `untilIdle` until no run is queued or running and nothing is executing. */
  async run(opts: { untilIdle?: boolean } = {}): Promise<void> {
    const { s, wake } = this
    const { config, store } = s
    const fence = new Fence(s)
    const withdraw = await announce(s, () => fence.stopAll('lost its liveness lock'))
    const unlisten = await store.listen('forge', (payload) => {
      // 'reconnected': notifications were lost while the listener was down, so look at everything once.
      if (payload === 'reconnected' || payload.startsWith('run')) s.hints.runsMayStart = true
      if (payload.startsWith('recorded:')) s.dirty.add(Number(payload.slice('recorded:'.length)))
      if (payload === 'reconnected') s.hints.scan = s.hints.claim = true
      else if (!payload.startsWith('run')) s.hints.claim = s.hints.unwatched = true
      wake.fire()
    })
    const due = { pass: 0, heartbeat: 0, reap: 0, refresh: 0 }
    const isDue = (what: keyof typeof due, everyMs: number, now: number) => now - due[what] >= everyMs && (due[what] = now) > 0
    let refreshing: Promise<void> | null = null
    fence.ok()
    try {
      while (!s.stopping) {
        const now = new Date()
        let work = 0
        try {
          if (this.o.refreshDags && !refreshing && isDue('refresh', config.dagRefreshIntervalMs, now.getTime())) {
            // In the background: importing DAG files takes ~0.3 s a file, and scheduling must not stall for it.
            refreshing = this.o.refreshDags().catch((error: Error) => s.emit({ type: 'scheduler:error', error })).finally(() => (refreshing = null))
          }
          work = await this.tick(now, isDue('pass', config.pollIntervalMs, now.getTime()))
          if (isDue('heartbeat', config.heartbeatIntervalMs, now.getTime())) {
            s.hints.writeStarted = true
            await heartbeatAttempts(s)
            fence.ok()
          }
          if (isDue('reap', Math.min(1000, config.heartbeatIntervalMs), now.getTime())) work += await reapAndAdopt(s, now)
        } catch (err) {
          // The database went away or a statement failed: say so and try again; running attempts keep going and
          // their results wait in memory.
          s.emit({ type: 'scheduler:error', error: err as Error })
          await wake.wait(1000)
          continue
        }
        if (work > 0) continue
        if (opts.untilIdle && s.attempts.size === 0 && s.finished.length === 0 && (await countActiveRuns(store.db)) === 0) break
        const untilRetry = Math.min(Infinity, ...[...s.retryDue.values()].map((at) => at - Date.now()))
        await wake.wait(Math.max(5, Math.min(config.pollIntervalMs, untilRetry, config.heartbeatIntervalMs)))
      }
    } finally {
      fence.close()
      await refreshing
      await unlisten()
      // Cancel what still runs in this process and record it, so nothing waits for a reaper after a clean stop.
      await this.o.executor.close()
      await flushResults(s).catch(() => {})
      if (s.logs.size > 0) await heartbeatAttempts(s).catch(() => {})
      await withdraw()
    }
  }
}
