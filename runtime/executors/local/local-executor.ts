import { formatMs } from '../../duration.ts'
import { SHUTDOWN_REASON, emitTo, type AttemptSpec, type AttemptStatus, type Executor, type ExecutorEvent, type OrphanAttempt } from '../executor.ts'
import { ProcessAttempt } from './process-attempt.ts'
import { ThreadPool } from './thread-pool.ts'

export interface LocalExecutorOptions {
  /** Concurrent attempts (processes plus thread tasks). */
  parallelism: number
  threadWorkers: number
}

/**
 * Runs attempts on this machine: each `process` attempt (and every shell task) in its own child process, each
 * `thread` attempt on a shared pool of worker threads. Enforces the per-attempt timeout: the attempt is
 * cancelled, gets a grace period, then is killed; either way it fails with "timed out after …".
 */
export class LocalExecutor implements Executor {
  readonly name = 'local'
  private listeners = new Set<(e: ExecutorEvent) => void>()
  private processes = new Map<string, ProcessAttempt>()
  /** Attempts running on a thread, with their external id. */
  private threadKeys = new Map<string, string>()
  private timers = new Map<string, NodeJS.Timeout>()
  private threads: ThreadPool | null = null
  private closed = false

  constructor(private opts: LocalExecutorOptions) {}

  onEvent(listener: (e: ExecutorEvent) => void): () => void {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }

  private running(): number {
    return this.processes.size + this.threadKeys.size
  }

  async capacity(): Promise<number> {
    return this.closed ? 0 : Math.max(0, this.opts.parallelism - this.running())
  }

  async launch(spec: AttemptSpec): Promise<string> {
    const known = this.threadKeys.get(spec.key) ?? this.processes.get(spec.key)?.externalId
    if (known) return known
    this.armTimeout(spec)
    if (spec.task.kind === 'function' && spec.task.isolation === 'thread') {
      this.threads ??= new ThreadPool(this.opts.threadWorkers, (e) => this.emit(e))
      // Set before the start: the thread pool reports "started" synchronously.
      this.threadKeys.set(spec.key, '')
      const id = this.threads.start(spec)
      this.threadKeys.set(spec.key, id)
      return id
    }
    const attempt = new ProcessAttempt(spec, (e) => this.emit(e), () => this.processes.delete(spec.key))
    this.processes.set(spec.key, attempt)
    return attempt.externalId
  }

  async cancel(key: string, reason: string): Promise<void> {
    this.processes.get(key)?.cancel(reason)
    if (this.threadKeys.has(key)) this.threads?.cancel(key, reason)
  }

  async status(keys: string[]): Promise<Map<string, AttemptStatus>> {
    return new Map(keys.map((k) => [k, this.processes.has(k) || this.threadKeys.has(k) ? 'running' : 'unknown']))
  }

  /** Its attempts run in this process's children and threads, which die with it: a restarted one has none to adopt. */
  async adopt(_attempts: OrphanAttempt[]): Promise<string[]> {
    return []
  }

  private armTimeout(spec: AttemptSpec): void {
    if (spec.task.timeout_ms == null) return
    const ms = spec.task.timeout_ms
    this.timers.set(spec.key, setTimeout(() => void this.cancel(spec.key, `timed out after ${formatMs(ms)}`), ms))
  }

  private emit(event: ExecutorEvent): void {
    if (event.type === 'finished') {
      clearTimeout(this.timers.get(event.key))
      this.timers.delete(event.key)
      this.threadKeys.delete(event.key)
    }
    emitTo(this.listeners, event)
  }

  async close(): Promise<void> {
    this.closed = true
    for (const key of [...this.processes.keys(), ...this.threadKeys.keys()]) await this.cancel(key, SHUTDOWN_REASON)
    // Wait for the cancelled attempts to report, so their results are recorded (a stopped attempt is requeued).
    const deadline = Date.now() + 6000
    while (this.running() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await this.threads?.close()
    for (const t of this.timers.values()) clearTimeout(t)
  }
}
