import { formatMs } from '../../duration.ts'
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

  start(spec: AttemptSpec): void {
    if (spec.task.timeout_ms != null) {
      const ms = spec.task.timeout_ms
      this.timers.set(spec.key, setTimeout(() => this.cancel(spec.key, `timed out after ${formatMs(ms)}`), ms))
    }
    if (spec.task.kind === 'function' && spec.task.isolation === 'thread') {
      this.threads ??= new ThreadPool(this.opts.threadWorkers, (e) => this.emit(e))
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

  private emit(event: ExecutorEvent): void {
    if (event.type === 'finished') {
      clearTimeout(this.timers.get(event.key))
      this.timers.delete(event.key)
      this.threadKeys.delete(event.key)
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
    for (const key of [...this.processes.keys(), ...this.threadKeys]) this.cancel(key, SHUTDOWN_REASON)
    const deadline = Date.now() + 6000
    while (this.processes.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    await this.threads?.close()
    for (const t of this.timers.values()) clearTimeout(t)
  }
}
