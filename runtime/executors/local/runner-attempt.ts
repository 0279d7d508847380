import type { AttemptOutcome, AttemptSpec, ExecutorEvent } from '../executor.ts'
import { CANCEL_GRACE_MS, SHUTDOWN_REASON } from '../executor.ts'
import type { PooledRunner } from './runner-pool.ts'

/** What `forge task run` exits with when nothing is left to record: recorded (0), refused at the start (2) or at the end (3). */
const RECORDED_CODES = new Set([0, 2, 3])

/**
 * One attempt run by a task runner process (`forge task run --attempt ID`, started ahead of need by the pool):
 * the runner loads the attempt, runs it and records its result itself. This side only hands it the attempt,
 * relays cancellation, and reports the end: `recorded` when the runner exited having recorded (or having found
 * nothing to record), `lost` when it died without, which the scheduler records as an infrastructure failure.
 */
export class RunnerAttempt {
  readonly externalId: string
  private cancelled = false
  private ended = false
  /** Process groups of shell commands the runner started: they outlive a runner killed with SIGKILL unless killed here. */
  private groups = new Set<number>()

  constructor(
    readonly spec: AttemptSpec,
    private runner: PooledRunner,
    emit: (e: ExecutorEvent) => void,
    onEnd: () => void,
  ) {
    const { child } = runner
    this.externalId = `local:${process.pid}:${child.pid}`
    const key = spec.key
    let told: { ok: boolean; reason: string | null } | undefined
    const onMessage = (m: { type?: string; pgid?: unknown; ok?: unknown; reason?: unknown }) => {
      if (m?.type === 'process-group' && Number.isInteger(m.pgid) && (m.pgid as number) > 1) this.groups.add(m.pgid as number)
      else if (m?.type === 'recorded' && typeof m.ok === 'boolean') told = { ok: m.ok, reason: typeof m.reason === 'string' ? m.reason : null }
    }
    child.on('message', onMessage)
    child.once('exit', (code, signal) => {
      child.off('message', onMessage)
      // A runner that exits by itself has killed its groups already; one killed by a signal could not.
      this.killGroups()
      if (this.ended) return
      this.ended = true
      const outcome: AttemptOutcome =
        code !== null && RECORDED_CODES.has(code) ? { kind: 'recorded', ...told } : { kind: 'lost', reason: this.why(code, signal) }
      runner.dispose()
      onEnd()
      emit({ type: 'finished', key, outcome })
    })
    // A runner that dies while a message is on its way must not take this process down (EPIPE): its exit reports it.
    child.on('error', () => {})
    void runner.ready.then(() => {
      if (child.connected) child.send({ type: 'run', attemptId: spec.attemptId, executorId: this.externalId }, () => {})
    })
    // No "started" here: the runner marks its attempt running (with this id) when it begins, so an attempt whose
    // scheduler died while its runner was still booting is seen as never begun and requeued, spending nothing.
  }

  /** Asks the runner to stop (it records the reason), and kills its process group after a grace period. */
  cancel(reason: string, opts: { infrastructure: boolean }): void {
    if (this.cancelled || this.ended) return
    this.cancelled = true
    const { child } = this.runner
    const requeue = reason === SHUTDOWN_REASON
    if (child.connected) child.send({ type: 'cancel', reason, failureClass: opts.infrastructure ? 'infrastructure' : 'task', requeue }, () => {})
    // The runner gets its own grace period to stop the task and record why; this one comes after it.
    setTimeout(() => this.kill(), CANCEL_GRACE_MS + 2000).unref()
  }

  private kill(): void {
    const pid = this.runner.child.pid
    if (this.ended || pid == null) return
    this.killGroups()
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      this.runner.child.kill('SIGKILL')
    }
  }

  private killGroups(): void {
    for (const pgid of this.groups) {
      try {
        process.kill(-pgid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
    this.groups.clear()
  }

  /** The runner's last error line says more than its exit code (a missing module, an OOM…). */
  private why(code: number | null, signal: NodeJS.Signals | null): string {
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`
    const last = this.runner
      .stderrTail()
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /error/i.test(l))
      .at(-1)
    return `task runner ${how} without recording a result${last ? `: ${last.slice(0, 300)}` : ''}`
  }
}
