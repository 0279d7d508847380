import { formatMs } from '../../duration.ts'
import type { ChainSettings } from '../../scheduler/chain-edge.ts'
import { SHUTDOWN_REASON, type AttemptSpec, type Executor, type ExecutorEvent } from '../executor.ts'
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
  private listeners: Array<(e: ExecutorEvent) => void> = []
  private processes = new Map<string, ProcessAttempt>()
  private threadKeys = new Set<string>()
  private timers = new Map<string, NodeJS.Timeout>()
  private threads: ThreadPool | null = null
  private chain: ChainSettings | null = null

  constructor(private opts: LocalExecutorOptions) {}

  onEvent(listener: (e: ExecutorEvent) => void): void {
    this.listeners.push(listener)
  }

  running(): number {
    return this.processes.size + this.threadKeys.size
  }

  freeSlots(): number {
    return Math.max(0, this.opts.parallelism - this.running())
  }

  enableChaining(settings: ChainSettings): void {
    this.chain = settings
    this.threads?.enableChaining(settings)
  }

  start(spec: AttemptSpec): void {
    this.armTimeout(spec)
    if (spec.task.kind === 'function' && spec.task.isolation === 'thread') {
      if (!this.threads) {
        this.threads = new ThreadPool(this.opts.threadWorkers, (e) => this.emit(e))
        if (this.chain) this.threads.enableChaining(this.chain)
      }
      this.threadKeys.add(spec.key)
      this.threads.start(spec)
    } else {
      this.processes.set(spec.key, new ProcessAttempt(spec, (e) => this.emit(e), () => this.processes.delete(spec.key)))
    }
  }

  cancel(key: string, reason: string): void {
    this.processes.get(key)?.cancel(reason)
    if (this.threadKeys.has(key)) this.threads?.cancel(key, reason)
  }

  private armTimeout(spec: AttemptSpec): void {
    if (spec.task.timeout_ms == null) return
    const ms = spec.task.timeout_ms
    this.timers.set(spec.key, setTimeout(() => this.cancel(spec.key, `timed out after ${formatMs(ms)}`), ms))
  }

  private emit(event: ExecutorEvent): void {
    if (event.type === 'finished' || event.type === 'chained') {
      clearTimeout(this.timers.get(event.key))
      this.timers.delete(event.key)
      this.threadKeys.delete(event.key)
    }
    // A successor a thread started by itself: time it and count it as if start() had been called.
    if (event.type === 'chained' && event.next) {
      this.threadKeys.add(event.next.key)
      this.armTimeout(event.next)
    }
    for (const l of this.listeners) {
      try {
        l(event)
      } catch {
        // A throwing listener must not break the executor (graphile-worker's safeEmit).
      }
    }
  }

  async close(): Promise<void> {
    await this.threads?.drain()
    for (const key of [...this.processes.keys(), ...this.threadKeys]) this.cancel(key, SHUTDOWN_REASON)
    // Wait for the cancelled attempts to report, so their results are recorded (a stopped attempt is requeued).
    const deadline = Date.now() + 6000
    while (this.running() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await this.threads?.close()
    for (const t of this.timers.values()) clearTimeout(t)
  }
}
