import { runnerEnvironment, type ForgeConfig } from '../../config.ts'
import { formatMs } from '../../duration.ts'
import { attemptsWithLiveRunner } from '../../store/attempt-lock.ts'
import type { Store } from '../../store/connect.ts'
import { serveAttemptReports } from '../../worker/serve-attempt-reports.ts'
import {
  FENCE_SUFFIX,
  SHUTDOWN_REASON,
  emitTo,
  type AttemptSpec,
  type AttemptStatus,
  type Executor,
  type ExecutorEvent,
  type OrphanAttempt,
} from '../executor.ts'
import { prepareRunnerBundle } from '../../prebuilt/prepare-runner.ts'
import { RunnerAttempt } from './runner-attempt.ts'
import { RunnerPool } from './runner-pool.ts'
import { ThreadPool } from './thread-pool.ts'

export interface LocalExecutorOptions {
  /** Concurrent attempts (runner processes plus thread tasks). */
  parallelism: number
  threadWorkers: number
  /** The store the runners report to, and the settings they run with. */
  store: Store
  config: ForgeConfig
  /** Runner processes kept started ahead of need (default: 2, at most `parallelism`). */
  runnerPool?: number
  /** Where a line about the runners goes (why the prebuilt runner could not be built); default stderr. */
  log?: (line: string) => void
}

/** How often adopted runners (started by a scheduler that died) are checked for their liveness lock. */
const ADOPTED_POLL_MS = 500

/**
 * Runs attempts on this machine. Each `process` attempt (and every shell task) runs in a task runner process of
 * its own (`forge task run`, started ahead of need by a pool), which records its result itself: directly on a
 * Postgres store, where the runner is detached and outlives this process; through this process on PGlite, which
 * only this process can open (serveAttemptReports), so runners die with it. `thread` attempts run on a pool of
 * worker threads and hand their result to the scheduler: a local optimisation for light tasks, with its own
 * timeout here (a runner enforces its own).
 */
export class LocalExecutor implements Executor {
  readonly name = 'local'
  private listeners = new Set<(e: ExecutorEvent) => void>()
  private runners = new Map<string, RunnerAttempt>()
  /** Attempts running on a thread, with their external id. */
  private threadKeys = new Map<string, string>()
  /** Attempts of runners this executor did not start, with their attempt ids. */
  private adopted = new Map<string, number>()
  private adoptTimer: NodeJS.Timeout | null = null
  private timers = new Map<string, NodeJS.Timeout>()
  private threads: ThreadPool
  private pool: RunnerPool
  private closed = false
  private detached: boolean

  constructor(private opts: LocalExecutorOptions) {
    const postgres = opts.store.kind === 'postgres' && !!opts.store.url
    this.detached = postgres
    this.pool = new RunnerPool({
      size: Math.min(opts.runnerPool ?? 2, opts.parallelism),
      env: runnerEnvironment(opts.config, postgres ? opts.store.url! : null),
      detached: postgres,
      prebuilt: opts.config.prebuiltRunner ? prepareRunnerBundle(opts.config.home, opts.log ?? ((l) => console.error(l))) : undefined,
    })
    // Started now, not at the first thread attempt: a thread boots tsx, which takes a second or more on a busy machine.
    this.threads = new ThreadPool(opts.threadWorkers, (e) => this.emit(e))
  }

  onEvent(listener: (e: ExecutorEvent) => void): () => void {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }

  private running(): number {
    return this.runners.size + this.threadKeys.size + this.adopted.size
  }

  /**
   * Nothing until a worker thread has booted: a scheduler that is still starting claims nothing, and leaves the work
   * to the schedulers that can start it now (docs/executors.md §1).
   */
  async capacity(): Promise<number> {
    if (this.closed || !this.threads.ready()) return 0
    return Math.max(0, this.opts.parallelism - this.running())
  }

  async launch(spec: AttemptSpec): Promise<string> {
    const known = this.threadKeys.get(spec.key) ?? this.runners.get(spec.key)?.externalId
    if (known) return known
    if (this.closed) throw new Error('the executor is closed')
    if (spec.task.kind === 'function' && spec.task.isolation === 'thread') {
      this.armTimeout(spec)
      // Set before the start: the thread pool reports "started" synchronously.
      this.threadKeys.set(spec.key, '')
      const id = this.threads.start(spec)
      this.threadKeys.set(spec.key, id)
      return id
    }
    // Once per executor: a runner started through tsx meanwhile would cost more than the wait (a cache hit is milliseconds).
    await this.pool.prepared
    if (this.closed) throw new Error('the executor is closed')
    const again = this.runners.get(spec.key)?.externalId
    if (again) return again
    this.pool.warm()
    const runner = this.pool.take()
    const stopServing =
      this.opts.store.kind === 'pglite'
        ? serveAttemptReports(this.opts.store.db, runner.child, { xcomMaxBytes: this.opts.config.xcomMaxBytes })
        : () => {}
    const attempt = new RunnerAttempt(
      spec,
      runner,
      (e) => this.emit(e),
      () => {
        stopServing()
        this.runners.delete(spec.key)
      },
    )
    this.runners.set(spec.key, attempt)
    return attempt.externalId
  }

  async cancel(key: string, reason: string): Promise<void> {
    // A detached runner proves itself alive with its own lock: a fence of this process does not concern it.
    const fenceOnly = this.detached && reason.endsWith(FENCE_SUFFIX)
    // A timeout is the task's failure; anything else that stops an attempt (a shutdown, a fence) is not.
    if (!fenceOnly) this.runners.get(key)?.cancel(reason, { infrastructure: !reason.startsWith('timed out') })
    if (this.threadKeys.has(key)) this.threads.cancel(key, reason)
  }

  async status(keys: string[]): Promise<Map<string, AttemptStatus>> {
    return new Map(keys.map((k) => [k, this.runners.has(k) || this.threadKeys.has(k) || this.adopted.has(k) ? 'running' : 'unknown']))
  }

  /**
   * Adopts the attempts whose runner still holds its liveness lock (Postgres; on PGlite runners die with their
   * owner, so none does), and watches the lock: once it is released the runner has recorded its result, or died,
   * which the scheduler then records as an infrastructure failure under the attempt's guard.
   */
  async adopt(attempts: OrphanAttempt[]): Promise<string[]> {
    const alive = attempts.filter((a) => a.runnerAlive && !this.closed)
    for (const a of alive) this.adopted.set(a.key, a.attemptId)
    if (alive.length && !this.adoptTimer) this.adoptTimer = setInterval(() => void this.checkAdopted(), ADOPTED_POLL_MS)
    return alive.map((a) => a.key)
  }

  private async checkAdopted(): Promise<void> {
    const live = await attemptsWithLiveRunner(this.opts.store.db, [...this.adopted.values()]).catch(() => null)
    if (!live) return
    for (const [key, attemptId] of this.adopted) {
      if (live.has(attemptId)) continue
      this.adopted.delete(key)
      this.emit({ type: 'finished', key, outcome: { kind: 'lost', reason: 'the runner of an adopted attempt ended without recording a result' } })
    }
    if (this.adopted.size === 0 && this.adoptTimer) {
      clearInterval(this.adoptTimer)
      this.adoptTimer = null
    }
  }

  private armTimeout(spec: AttemptSpec): void {
    if (spec.task.timeout_ms == null) return
    const ms = spec.task.timeout_ms
    this.timers.set(
      spec.key,
      setTimeout(() => void this.cancel(spec.key, `timed out after ${formatMs(ms)}`), ms),
    )
  }

  private emit(event: ExecutorEvent): void {
    if (event.type === 'finished') {
      clearTimeout(this.timers.get(event.key))
      this.timers.delete(event.key)
      this.threadKeys.delete(event.key)
    }
    emitTo(this.listeners, event)
  }

  /**
   * A clean stop: attempts started here are cancelled and requeued (recorded by their runner or by the scheduler);
   * adopted ones are left to their runners. Attempts outlive this process only when it dies.
   */
  async close(): Promise<void> {
    this.closed = true
    this.pool.close()
    if (this.adoptTimer) clearInterval(this.adoptTimer)
    this.adopted.clear()
    for (const key of [...this.runners.keys(), ...this.threadKeys.keys()]) await this.cancel(key, SHUTDOWN_REASON)
    const deadline = Date.now() + 6000
    while (this.runners.size + this.threadKeys.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await this.threads.close()
    for (const t of this.timers.values()) clearTimeout(t)
  }
}
