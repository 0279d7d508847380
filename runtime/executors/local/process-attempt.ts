import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { AttemptSpec, ExecutorEvent } from '../executor.ts'
import { failed } from '../executor.ts'
import type { TaskOutcome } from '../run-task.ts'

const CHILD = fileURLToPath(new URL('./task-child.ts', import.meta.url))
// By URL, not name: `--import tsx` resolves from the working directory, which may be anywhere.
const TSX = import.meta.resolve('tsx')
/** How long a cancelled child gets to clean up (destroy CARLA actors, restore settings) before SIGKILL. */
export const CANCEL_GRACE_MS = 5000
/** How long an exited task process's output pipes may stay open (held by something it started) before its result is recorded. */
const STDIO_DRAIN_MS = 500

/** One attempt in its own child process; stdout and stderr become the attempt's log. */
export class ProcessAttempt {
  private child: ChildProcess
  private done = false
  private cancelReason: string | null = null
  private stderrTail = ''
  /** A shell task's process group, which killing the child alone would leave running. */
  private group: number | null = null
  /** The outcome the child reported; recorded once its output is read, so no log line arrives after the result. */
  private reported: TaskOutcome | null = null

  constructor(readonly spec: AttemptSpec, private emit: (e: ExecutorEvent) => void, onExit: () => void) {
    this.child = fork(CHILD, [], {
      execArgv: ['--import', TSX],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, FORGE_ATTEMPT: spec.key },
    })
    const key = spec.key
    this.child.stdout!.on('data', (b: Buffer) => emit({ type: 'log', key, chunk: b.toString('utf8') }))
    this.child.stderr!.on('data', (b: Buffer) => {
      const text = b.toString('utf8')
      this.stderrTail = (this.stderrTail + text).slice(-2000)
      emit({ type: 'log', key, chunk: text })
    })
    this.child.on('message', (m: { type: string; outcome?: TaskOutcome; done?: number; total?: number | null; unit?: string; pgid?: number }) => {
      if (m.type === 'group') this.group = m.pgid!
      else if (m.type === 'progress') emit({ type: 'progress', key, done: m.done!, total: m.total ?? null, unit: m.unit! })
      else if (m.type === 'outcome') this.reported ??= m.outcome!
    })
    this.child.on('spawn', () => emit({ type: 'started', key, externalId: this.externalId }))
    this.child.on('error', (err) => this.finish({ ok: false, error: err.message, nonRetryable: false, reason: `could not start the task process: ${err.message}` }))
    // The outcome travels over IPC and the output over pipes, so the outcome can arrive first: record it once the
    // pipes have ended (bounded, in case something the task started still holds them).
    const drained = Promise.all([this.child.stdout!, this.child.stderr!].map((s) => new Promise((r) => s.once('close', r))))
    this.child.on('exit', (code, signal) => {
      // Died without reporting (killed, crashed): what it started must not outlive it.
      if (!this.done && !this.reported) this.killGroup()
      void Promise.race([drained, new Promise((r) => setTimeout(r, STDIO_DRAIN_MS))]).then(() => {
        if (this.reported) this.finish(this.reported)
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`
        // The last error line the process printed says more than its exit code (a missing module, an OOM…).
        const last = this.stderrTail.split('\n').map((l) => l.trim()).filter((l) => /error/i.test(l)).at(-1)
        const reason = `task process ${how}${last ? `: ${last.slice(0, 300)}` : ''}`
        this.finish({ ok: false, error: `${reason} before reporting a result`, nonRetryable: false, reason })
        onExit()
      })
    })
    this.child.send({ type: 'run', spec })
  }

  get externalId(): string {
    return `local:${process.pid}:${this.child.pid}`
  }

  cancel(reason: string): void {
    if (this.done || this.cancelReason) return
    this.cancelReason = reason
    if (this.child.connected) this.child.send({ type: 'cancel', reason })
    setTimeout(() => {
      this.child.kill('SIGKILL')
      this.killGroup()
    }, CANCEL_GRACE_MS).unref()
  }

  private killGroup(): void {
    if (this.group == null) return
    try {
      process.kill(-this.group, 'SIGKILL')
    } catch {
      // Gone already.
    }
  }

  /** The first outcome wins: a cancelled attempt fails with the cancel reason even if the task then returns. */
  private finish(outcome: TaskOutcome): void {
    if (this.done) return
    this.done = true
    const key = this.spec.key
    const result = this.cancelReason ? failed(this.cancelReason, this.cancelReason) : outcome.ok ? { kind: 'result' as const, ok: true as const, result: outcome.result } : failed(outcome.error, outcome.reason, outcome.nonRetryable)
    this.emit({ type: 'finished', key, outcome: result })
  }
}
