import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { countActiveRuns } from '../store/run.repo.ts'
import { onExecutorEvent } from './attempt-events.ts'
import type { SchedulerEvent, SchedulerOptions } from './events.ts'
import { Fence } from './fence.ts'
import { dueTimers } from './due.ts'
import { executorsByName } from './executors.ts'
import { announce, livenessStep, stopCleanly } from './liveness.ts'
import { listenForWork } from './listen.ts'
import { schedulingPass } from './pass.ts'
import { newState, type SchedulerState } from './state.ts'
import { Wakeup } from './wakeup.ts'

export type { SchedulerEvent, SchedulerOptions } from './events.ts'

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
        // Listeners must not break the loop.
      }
    }
    const executors = executorsByName(o.executor, o.executors)
    this.s = newState({ id: this.id, config: o.config, store: o.store, executors, defaultExecutor: o.executor.name, onlyRunPk: o.onlyRunPk, emit })
    for (const executor of executors.values()) executor.onEvent((e) => onExecutorEvent(this.s, e, () => this.wake.fire()))
  }

  stop(): void {
    this.s.stopping = true
    this.wake.fire()
  }

  /** One scheduling pass (pass.ts). */
  tick(now = new Date(), periodic = true): Promise<number> {
    return schedulingPass(this.s, now, periodic)
  }

  /** Runs until stop(), or with `untilIdle` until no run is queued or running and nothing is executing. */
  async run(opts: { untilIdle?: boolean } = {}): Promise<void> {
    const { s, wake } = this
    const { config, store } = s
    const fence = new Fence(s)
    const withdraw = await announce(s, () => fence.stopAll('lost its liveness lock'))
    const unlisten = await listenForWork(s, () => wake.fire())
    const isDue = dueTimers()
    let refreshing: Promise<void> | null = null
    fence.ok()
    try {
      while (!s.stopping) {
        const now = new Date()
        let work = 0
        try {
          if (this.o.refreshDags && !refreshing && isDue('refresh', config.dagRefreshIntervalMs, now.getTime())) {
            // In the background: importing DAG files takes ~0.3 s a file, and scheduling must not stall for it.
            refreshing = this.o
              .refreshDags()
              .catch((error: Error) => s.emit({ type: 'scheduler:error', error }))
              .finally(() => (refreshing = null))
          }
          work = await this.tick(now, isDue('pass', config.pollIntervalMs, now.getTime()))
          work += await livenessStep(s, fence, now, isDue)
        } catch (err) {
          // The database went away or a statement failed: say so and retry; results wait in memory meanwhile.
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
      await stopCleanly(s)
      await withdraw()
    }
  }
}
