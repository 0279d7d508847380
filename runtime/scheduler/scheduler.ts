import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { ForgeConfig } from '../config.ts'
import type { AttemptSpec, Executor, ExecutorEvent } from '../executors/executor.ts'
import type { Store } from '../store/connect.ts'
import { countActiveRuns } from '../store/run.repo.ts'
import { buildAttemptSpecs, claimTasks } from './claim.ts'
import { heartbeat, recordEvents, type Finished, type Started } from './complete.ts'
import { createDueRuns, startQueuedRuns } from './create-runs.ts'
import { decideTasks } from './decide-tasks.ts'
import { reapLostAttempts } from './reap.ts'
import { Wakeup } from './wakeup.ts'
import { SHUTDOWN_REASON } from '../executors/executor.ts'

export type SchedulerEvent =
  | { type: 'attempt:finished'; spec: AttemptSpec; ok: boolean; reason: string | null; durationMs: number }
  | { type: 'attempt:progress'; spec: AttemptSpec; done: number; total: number | null; unit: string }
  | { type: 'run:finished'; dagId: string; runId: string; state: string }

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
 * The scheduler loop (STYLE: graphile-worker's doNext + Airflow's _do_scheduling). Each tick: create due runs,
 * start queued runs, record executor events, decide task instances of changed runs, claim and launch. It sleeps
 * only when a tick did nothing, and wakes on NOTIFY, on an executor event, or when a retry falls due. It holds no
 * state that is not also in the database, apart from results it has not yet written (an attempt whose result is
 * lost with the process is reaped and retried by another scheduler).
 */
export class Scheduler {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  private wake = new Wakeup()
  private dirty = new Set<number>()
  private specs = new Map<string, { spec: AttemptSpec; started: number; runPk: number }>()
  private started: Started[] = []
  private finished: Finished[] = []
  private logs = new Map<string, string>()
  private stopping = false
  private nextWakeAt: Date | null = null
  private unlisten: (() => Promise<void>) | null = null

  constructor(private o: SchedulerOptions) {
    o.executor.onEvent((e) => this.onExecutorEvent(e))
  }

  stop(): void {
    this.stopping = true
    this.wake.fire()
  }

  /** Runs until stop(), or with `untilIdle` until no run is queued or running and nothing is executing. */
  async run(opts: { untilIdle?: boolean } = {}): Promise<void> {
    const { config, store } = this.o
    this.unlisten = await store.listen('forge', () => this.wake.fire())
    let lastHeartbeat = 0
    let lastReap = 0
    let lastRefresh = 0
    try {
      while (!this.stopping) {
        const now = new Date()
        if (this.o.refreshDags && now.getTime() - lastRefresh >= config.dagRefreshIntervalMs) {
          lastRefresh = now.getTime()
          await this.o.refreshDags()
        }
        let work = await this.tick(now)
        if (now.getTime() - lastHeartbeat >= config.heartbeatIntervalMs) {
          lastHeartbeat = now.getTime()
          const logs = this.logs
          this.logs = new Map()
          await heartbeat(store.db, this.id, logs)
        }
        if (now.getTime() - lastReap >= config.heartbeatIntervalMs) {
          lastReap = now.getTime()
          const reaped = await reapLostAttempts(store.db, config.heartbeatTimeoutMs)
          for (const r of reaped) this.dirty.add(r)
          work += reaped.size
        }
        if (work > 0) continue
        if (opts.untilIdle && this.o.executor.running() === 0 && this.finished.length === 0 && (await countActiveRuns(store.db)) === 0) break
        const untilRetry = this.nextWakeAt ? this.nextWakeAt.getTime() - Date.now() : Infinity
        await this.wake.wait(Math.max(5, Math.min(config.pollIntervalMs, untilRetry, config.heartbeatIntervalMs)))
      }
    } finally {
      await this.shutdown()
    }
  }

  /** One pass; returns how much it did so the loop knows whether to sleep. */
  async tick(now = new Date()): Promise<number> {
    const { store, executor, config } = this.o
    const db = store.db
    let work = (this.o.onlyRunPk ? 0 : await createDueRuns(db, now)) + (await startQueuedRuns(db))
    work += await this.flush()
    const decided = await decideTasks(db, this.dirty, now, this.o.onlyRunPk)
    work += decided.changed
    this.nextWakeAt = decided.nextWakeAt
    for (const r of decided.finishedRuns) {
      this.emit({ type: 'run:finished', dagId: r.dag_id, runId: r.run_id, state: r.state })
      if (r.id === this.o.onlyRunPk) this.stop()
    }
    if (decided.finishedRuns.length) work++
    const claimed = await claimTasks(db, this.id, executor.freeSlots(), this.o.onlyRunPk)
    if (claimed.length) {
      const specs = await buildAttemptSpecs(db, claimed, config.dagsFolder)
      for (const spec of specs) {
        this.specs.set(spec.key, { spec, started: Date.now(), runPk: claimed.find((c) => c.id === spec.tiId)!.dag_run_id })
        executor.start(spec)
      }
      work += claimed.length
    }
    return work
  }

  private async flush(): Promise<number> {
    if (this.started.length === 0 && this.finished.length === 0) return 0
    const started = this.started.splice(0)
    const finished = this.finished.splice(0)
    const changed = await recordEvents(this.o.store.db, this.id, started, finished, this.o.config.xcomMaxBytes)
    for (const r of changed) this.dirty.add(r)
    return started.length + finished.length
  }

  private onExecutorEvent(e: ExecutorEvent): void {
    const entry = this.specs.get(e.key)
    if (!entry) return
    const { spec } = entry
    if (e.type === 'log') this.logs.set(e.key, (this.logs.get(e.key) ?? '') + e.chunk)
    else if (e.type === 'started') this.started.push({ tiId: spec.tiId, tryNumber: spec.tryNumber, executorId: e.executorId })
    else if (e.type === 'progress') this.emit({ type: 'attempt:progress', spec, done: e.done, total: e.total, unit: e.unit })
    else if (e.type === 'finished') {
      this.specs.delete(e.key)
      const log = (this.logs.get(e.key) ?? '') + (e.ok ? '' : `\n[forge] attempt failed: ${e.reason}\n${e.error}\n`)
      this.logs.delete(e.key)
      this.finished.push({
        tiId: spec.tiId,
        tryNumber: spec.tryNumber,
        maxTries: spec.maxTries,
        runPk: entry.runPk,
        taskId: spec.taskId,
        mapIndex: spec.mapIndex,
        task: spec.task,
        ok: e.ok,
        result: e.ok ? e.result : undefined,
        nonRetryable: e.ok ? false : e.nonRetryable,
        // Cancelled because this scheduler is stopping: run it again later without spending a retry.
        requeue: !e.ok && this.stopping && e.reason === SHUTDOWN_REASON,
        reason: e.ok ? null : e.reason,
        log,
      })
      this.emit({ type: 'attempt:finished', spec, ok: e.ok, reason: e.ok ? null : e.reason, durationMs: Date.now() - entry.started })
    }
    this.wake.fire()
  }

  private emit(e: SchedulerEvent): void {
    try {
      this.o.onEvent?.(e)
    } catch {
      // listeners must not break the loop
    }
  }

  private async shutdown(): Promise<void> {
    await this.unlisten?.()
    // Cancel what still runs and record it, so nothing waits for the heartbeat timeout after a clean stop.
    await this.o.executor.close()
    await this.flush().catch(() => {})
  }
}
