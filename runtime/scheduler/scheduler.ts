import { hostname } from 'node:os'
import { sql } from 'kysely'
import { randomBytes } from 'node:crypto'
import type { ForgeConfig } from '../config.ts'
import type { AttemptSpec, Executor, ExecutorEvent } from '../executors/executor.ts'
import type { Store } from '../store/connect.ts'
import { countActiveRuns } from '../store/run.repo.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { SerializedDag } from '../dag/serialize.ts'
import { claimIn } from './claim.ts'
import { loadAttempts, type ClaimedRow, type SpecCache } from '../store/attempt-load.ts'
import { insideFolder } from '../paths.ts'
import { claimRunByRun } from './claim-by-run.ts'
import { recordEvents, recordEventsIn, type Finished, type Recorded, type Started } from '../store/attempt-record.ts'
import { heartbeat } from '../store/attempt-heartbeat.ts'
import { chainSuccessor, planHandoffs, runsToDecide } from './handoff.ts'
import { createDueRuns, startQueuedRuns } from './create-runs.ts'
import { createDatasetRuns } from './create-dataset-runs.ts'
import { decideIn, type DecideResult } from './decide-tasks.ts'
import type { Db, Trx } from '../store/database.ts'
import { flagMissingPools, reapLostAttempts } from './reap.ts'
import { Wakeup } from './wakeup.ts'
import { SHUTDOWN_REASON } from '../executors/executor.ts'

export type SchedulerEvent =
  | { type: 'attempt:finished'; spec: AttemptSpec; ok: boolean; reason: string | null; durationMs: number }
  | { type: 'attempt:progress'; spec: AttemptSpec; done: number; total: number | null; unit: string }
  | { type: 'run:finished'; dagId: string; runId: string; state: string }
  | { type: 'scheduler:error'; error: Error }

export interface SchedulerOptions {
  config: ForgeConfig
  store: Store
  executor: Executor
  /** Re-processes the DAG folder (the scheduler itself never imports DAG files). */
  refreshDags?: () => Promise<void>
  onEvent?: (e: SchedulerEvent) => void
  /** Work on this run only and create no scheduled runs (`forge dags test`, `npm start`, `trigger --wait`). */
  onlyRunPk?: number
  /** Let worker threads take chain edges themselves (chain-edge.ts; Postgres only); default: the config's. */
  chainInThread?: boolean
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
  /** Runs waiting for a retry, with when it falls due (ms): each is decided again then, not at the next scan. */
  private retryDue = new Map<number, number>()
  private unlisten: (() => Promise<void>) | null = null
  private lastPeriodic = 0
  private runsMayStart = true
  /** A producer recorded a dataset event (NOTIFY 'dataset'): consumers may have runs to create. */
  private datasetsDue = true
  private scanNext = true
  private mayClaim = true
  private startedDue = false
  private lastHeartbeatOk = Date.now()
  private fenceTimer: NodeJS.Timeout | undefined
  private refreshing: Promise<void> | null = null
  /** Run rows and recorded results reused when building attempt specs; dropped when the run finishes. */
  private cache: SpecCache = { runs: new Map(), results: new Map() }

  private chaining: boolean

  constructor(private o: SchedulerOptions) {
    o.executor.onEvent((e) => this.onExecutorEvent(e))
    // PGlite lives in this thread's memory: a worker thread cannot reach it, so edges stay on the regular path.
    this.chaining = (o.chainInThread ?? o.config.chainInThread) && o.store.kind === 'postgres' && !!o.store.url && !!o.executor.enableChaining
    if (this.chaining) o.executor.enableChaining!({ databaseUrl: o.store.url!, schedulerId: this.id, xcomMaxBytes: o.config.xcomMaxBytes })
  }

  stop(): void {
    this.stopping = true
    this.wake.fire()
  }

  /** Runs until stop(), or with `untilIdle` until no run is queued or running and nothing is executing. */
  async run(opts: { untilIdle?: boolean } = {}): Promise<void> {
    const { config, store } = this.o
    this.unlisten = await store.listen('forge', (payload) => {
      if (payload === 'reconnected') {
        // Notifications were lost while the listener was down: look at everything once.
        this.runsMayStart = this.mayClaim = this.scanNext = this.datasetsDue = true
      } else if (payload === 'dataset') this.datasetsDue = true
      else if (payload.startsWith('run')) this.runsMayStart = true
      else this.mayClaim = true
      this.wake.fire()
    })
    let lastHeartbeat = 0
    let lastReap = 0
    this.lastHeartbeatOk = Date.now()
    this.armFence()
    let lastRefresh = 0
    try {
      while (!this.stopping) {
        const now = new Date()
        let work = 0
        try {
          if (this.o.refreshDags && !this.refreshing && now.getTime() - lastRefresh >= config.dagRefreshIntervalMs) {
            lastRefresh = now.getTime()
            // In the background: importing DAG files in child processes takes ~0.3 s a file, and scheduling must
            // not stall for it. A failed refresh is reported and retried at the next interval.
            this.refreshing = this.o
              .refreshDags()
              .catch((err: unknown) => this.emit({ type: 'scheduler:error', error: err as Error }))
              .finally(() => (this.refreshing = null))
          }
          work = await this.tick(now)
          if (now.getTime() - lastHeartbeat >= config.heartbeatIntervalMs) {
            lastHeartbeat = now.getTime()
            this.startedDue = true
            const logs = this.logs
            this.logs = new Map()
            try {
              await heartbeat(store.db, this.id, [...this.specs.values()].map((e) => e.spec.tiId), logs)
            } catch (err) {
              for (const [k, v] of logs) this.logs.set(k, v + (this.logs.get(k) ?? ''))
              throw err
            }
            this.lastHeartbeatOk = Date.now()
            this.armFence()
          }
          if (now.getTime() - lastReap >= config.heartbeatIntervalMs) {
            lastReap = now.getTime()
            await flagMissingPools(store.db)
            const reaped = await reapLostAttempts(store.db, config.heartbeatTimeoutMs, now)
            for (const r of reaped) this.dirty.add(r)
            work += reaped.size
          }
        } catch (err) {
          // The database went away or a statement failed: say so and try again; running attempts keep going and
          // their results wait in memory (the reaper elsewhere retries them if this lasts past the timeout).
          this.emit({ type: 'scheduler:error', error: err as Error })
          await this.wake.wait(1000)
          continue
        }
        if (work > 0) continue
        if (opts.untilIdle && this.o.executor.running() === 0 && this.finished.length === 0 && (await countActiveRuns(store.db)) === 0) break
        let untilRetry = Infinity
        for (const at of this.retryDue.values()) untilRetry = Math.min(untilRetry, at - Date.now())
        await this.wake.wait(Math.max(5, Math.min(config.pollIntervalMs, untilRetry, config.heartbeatIntervalMs)))
      }
    } finally {
      await this.shutdown()
    }
  }

  /**
   * One pass; returns how much it did so the loop knows whether to sleep. Recording results, deciding the runs
   * they touched and claiming what became runnable share one transaction (a chain edge costs one commit), and
   * each step is skipped when nothing can have changed for it; `periodic` passes redo all of them so that work
   * another scheduler made runnable is never left waiting longer than the poll interval.
   */
  async tick(now = new Date()): Promise<number> {
    const { store, executor, config } = this.o
    const db = store.db
    let work = 0
    const periodic = now.getTime() - this.lastPeriodic >= config.pollIntervalMs
    if (periodic) this.lastPeriodic = now.getTime()
    for (const [runPk, at] of this.retryDue) {
      if (at > now.getTime()) continue
      this.retryDue.delete(runPk)
      this.dirty.add(runPk)
    }
    if (!this.o.onlyRunPk && periodic) work += await createDueRuns(db, now)
    if (!this.o.onlyRunPk && (periodic || this.datasetsDue)) {
      this.datasetsDue = false
      const created = await createDatasetRuns(db)
      if (created > 0) this.runsMayStart = true
      work += created
    }
    if (periodic || this.runsMayStart) {
      this.runsMayStart = false
      const startedRuns = await startQueuedRuns(db)
      if (startedRuns > 0) this.scanNext = true
      work += startedRuns
    }
    const finished = this.finished.splice(0)
    // "running" is bookkeeping, not a decision: it rides along with the next results or heartbeat.
    // An attempt that already finished goes straight from queued to its end state: skip its "running" write.
    const done = new Set(finished.map((f) => f.tiId))
    const started = finished.length > 0 || this.startedDue ? this.started.splice(0).filter((s) => !done.has(s.tiId)) : []
    this.startedDue = false
    // Record results first, as one autocommit statement when there is nothing else to write: with a slot
    // handoff that statement also claims the successor, and a chain edge costs one round trip.
    let recorded: Recorded = { runs: new Set(), succeeded: new Set(), handed: [] }
    if (finished.length > 0 || started.length > 0) {
      const handoffs = await planHandoffs(db, this.cache, finished)
      const record = (ex: Db | Trx) => recordEventsIn(ex, this.id, started, finished, config.xcomMaxBytes, handoffs)
      try {
        recorded = started.length > 0 ? await db.transaction().execute(record) : await record(db)
      } catch (err) {
        // Nothing was recorded: keep the results for the next try.
        this.finished.unshift(...finished)
        this.started.unshift(...started)
        throw err
      }
      for (const f of finished) if (f.ok && f.mapIndex === -1 && recorded.succeeded.has(f.tiId)) this.cache.results.set(`${f.runPk}|${f.taskId}`, f.result ?? null)
      // Start handed-off successors now: they are committed as claimed, and nothing below concerns them.
      await this.launch(recorded.handed)
      const handedFrom = new Set(recorded.handed.map((h) => h.from_id))
      for (const r of await runsToDecide(db, this.cache, finished, recorded.runs, handedFrom)) this.dirty.add(r)
    }
    const scan = periodic || this.scanNext
    this.scanNext = false
    const wantDecide = scan || this.dirty.size > 0
    // A handed-off slot is not a freed one: only other results make room for new claims.
    const wantClaim = periodic || this.mayClaim || finished.length > recorded.handed.length
    let decided: DecideResult = { changed: 0, scheduled: 0, finishedRuns: [], retryAt: new Map() }
    let claimed: ClaimedRow[] = []
    if (wantDecide || wantClaim) {
      const dirtyBefore = [...this.dirty]
      const decide = (trx: Trx, isolate: boolean) => decideIn(trx, this.dirty, now, { onlyRunPk: this.o.onlyRunPk, scan, maxMapWidth: config.maxMapWidth, isolate })
      const claim = async (trx: Trx, d: DecideResult) => {
        const capacity = executor.freeSlots()
        const c = wantClaim || d.scheduled > 0 ? await claimIn(trx, this.id, capacity, this.o.onlyRunPk) : []
        this.mayClaim = capacity > 0 && c.length === capacity
        // Wake other schedulers only for work this one left unclaimed, or a finished run that may free a queued one.
        if (d.scheduled > c.length || d.finishedRuns.length > 0) await sql`select pg_notify('forge', 'scheduled')`.execute(trx)
        return c
      }
      try {
        const more = await db.transaction().execute(async (trx) => {
          const d = await decide(trx, false)
          return { d, c: await claim(trx, d) }
        })
        decided = more.d
        claimed = more.c
      } catch {
        // The pass rolled back. Redo it apart, so that neither one run nor the claim can stop every other run:
        // each run's decision in a savepoint of its own (a run at fault is failed with the reason), then the claim.
        for (const id of dirtyBefore) this.dirty.add(id)
        decided = await db.transaction().execute((trx) => decide(trx, true))
        try {
          claimed = await db.transaction().execute((trx) => claim(trx, decided))
        } catch (claimErr) {
          this.emit({ type: 'scheduler:error', error: claimErr as Error })
          const byRun = await claimRunByRun(db, this.id, executor.freeSlots(), this.o.onlyRunPk)
          claimed = byRun.claimed
          decided.finishedRuns.push(...byRun.failedRuns)
          this.mayClaim = true
        }
      }
    }
    work += started.length + finished.length + decided.changed + claimed.length + recorded.handed.length
    for (const [runPk, at] of decided.retryAt) this.retryDue.set(runPk, at.getTime())
    for (const r of decided.finishedRuns) {
      work++
      this.runsMayStart = true
      this.forgetRun(r.id)
      this.emit({ type: 'run:finished', dagId: r.dag_id, runId: r.run_id, state: r.state })
      if (r.id === this.o.onlyRunPk) this.stop()
    }
    await this.launch(claimed)
    return work
  }

  /** Hands claimed instances to the executor, with their params and resolved inputs. */
  private async launch(claimed: ClaimedRow[]): Promise<void> {
    if (claimed.length === 0) return
    // Runs finished by other schedulers never reach forgetRun: bound the cache instead of tracking them.
    if (this.cache.results.size > 50_000 || this.cache.runs.size > 5_000) this.cache = { runs: new Map(), results: new Map() }
    const specs: AttemptSpec[] = (await loadAttempts(this.o.store.db, claimed, this.cache)).map((s) => ({ ...s, file: insideFolder(this.o.config.dagsFolder, s.fileloc) }))
    const runOf = new Map(claimed.map((c) => [c.id, c.dag_run_id]))
    const dags = new Map<number, SerializedDag>()
    if (this.chaining) for (const v of new Set(specs.map((s) => Number(s.versionTag)))) dags.set(v, await getDagVersion(this.o.store.db, v))
    for (const spec of specs) {
      const runPk = runOf.get(spec.tiId)!
      // Only an attempt with a pure chain successor carries chain data (and, once per thread, its DAG); the others
      // travel and report exactly as without chaining.
      const dag = dags.get(Number(spec.versionTag))
      if (dag && spec.task.kind === 'function' && spec.task.isolation === 'thread' && chainSuccessor(dag, spec.task)) {
        spec.chain = { runPk, versionId: Number(spec.versionTag), dag }
      }
      this.specs.set(spec.key, { spec, started: Date.now(), runPk })
      this.o.executor.start(spec)
    }
  }

  /**
   * Self-fencing: a watchdog re-armed by every successful heartbeat. Once this scheduler has not heartbeated for
   * 80 % of the timeout (failing statements, or a connection that hangs without failing), another scheduler is
   * about to reap its attempts and run them again, so it stops them itself rather than let two copies run at once.
   * A timer rather than a check in the loop: the loop retries about once a second and may be stuck in a query,
   * and with a short timeout a late check comes after the other scheduler has already started the retry.
   */
  private armFence(): void {
    clearTimeout(this.fenceTimer)
    this.fenceTimer = setTimeout(() => {
      const silentMs = Date.now() - this.lastHeartbeatOk
      for (const key of this.specs.keys()) this.o.executor.cancel(key, `lost the database for ${Math.round(silentMs / 1000)}s; stopped so that another scheduler can retry it`)
    }, this.o.config.heartbeatTimeoutMs * 0.8)
    this.fenceTimer.unref()
  }

  private forgetRun(runPk: number): void {
    this.retryDue.delete(runPk)
    this.cache.runs.delete(runPk)
    for (const key of this.cache.results.keys()) if (key.startsWith(`${runPk}|`)) this.cache.results.delete(key)
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
    if (e.type === 'chained') {
      this.onChained(e.key, entry, e.value, e.next)
      return
    }
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
        infraFailures: spec.infraFailures,
        maxInfraRetries: spec.maxInfraRetries,
        ok: e.ok,
        result: e.ok ? e.result : undefined,
        nonRetryable: e.ok ? false : e.nonRetryable,
        // Cancelled because this scheduler is stopping: run it again later without spending a retry.
        requeue: !e.ok && this.stopping && e.reason === SHUTDOWN_REASON,
        reason: e.ok ? null : e.reason,
        log,
      })
      this.emit({ type: 'attempt:finished', spec, ok: e.ok, reason: e.ok ? null : e.reason, durationMs: Date.now() - entry.started })
      // Only a result needs a pass now. "started" and log lines ride along with the next results or heartbeat, so
      // waking for them was a pass that did nothing, on every chain edge a worker thread took.
      this.wake.fire()
    }
  }

  /**
   * A worker thread recorded `key`'s success itself and may have started its successor: take over the successor
   * as if this scheduler had launched it. Nothing else in the run changed, unless no successor was claimed; then
   * the run gets a regular decision. The attempt's log is appended by the next heartbeat.
   */
  private onChained(key: string, entry: { spec: AttemptSpec; started: number; runPk: number }, value: unknown, next: AttemptSpec | null): void {
    const { spec, runPk } = entry
    this.specs.delete(key)
    this.cache.results.set(`${runPk}|${spec.taskId}`, value)
    this.emit({ type: 'attempt:finished', spec, ok: true, reason: null, durationMs: Date.now() - entry.started })
    if (next) this.specs.set(next.key, { spec: next, started: Date.now(), runPk })
    else {
      this.dirty.add(runPk)
      this.mayClaim = true
      this.wake.fire()
    }
  }

  private emit(e: SchedulerEvent): void {
    try {
      this.o.onEvent?.(e)
    } catch {
      // listeners must not break the loop
    }
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.fenceTimer)
    await this.refreshing
    await this.unlisten?.()
    // Cancel what still runs and record it, so nothing waits for the heartbeat timeout after a clean stop.
    await this.o.executor.close()
    await this.flush().catch(() => {})
    // Logs of attempts recorded by worker threads (chain edges) are otherwise appended by the next heartbeat.
    if (this.logs.size > 0) await heartbeat(this.o.store.db, this.id, [], this.logs).catch(() => {})
  }
}
