import type { AttemptSpec, AttemptStatus, Executor, ExecutorEvent, OrphanAttempt } from '../../runtime/executors/executor.ts'
import { SHUTDOWN_REASON, emitTo } from '../../runtime/executors/executor.ts'

/** What the fake does with one launch: succeed or fail after a delay, lose it (no event ever), or let it outlive its executor. */
export type FakePlan =
  | { do: 'succeed'; afterMs?: number; result?: unknown }
  | { do: 'fail'; afterMs?: number; reason?: string }
  | { do: 'lose' }
  | { do: 'outlive'; afterMs: number; result?: unknown }

/**
 * Where fake attempts run: shared by the executors of successive schedulers, as a Kubernetes cluster is, so that
 * an attempt started by one executor can be adopted by the next after its scheduler is gone.
 */
export class FakeWorld {
  /** Every launch the world saw, by attempt key, in order. */
  launches: string[] = []
  /** Attempts that outlive executors, with the executor reporting on them (null: none) and whether they are done. */
  running = new Map<string, { owner: FakeExecutor | null; result: unknown; done: boolean }>()
}

/**
 * A test double of an executor: runs nothing, and ends each attempt as `plan(spec)` says. Test support only.
 */
export class FakeExecutor implements Executor {
  private listeners = new Set<(e: ExecutorEvent) => void>()
  private mine = new Map<string, { status: AttemptStatus; timer?: NodeJS.Timeout }>()
  private closed = false
  /** The most attempts it ran at once, and the keys it launched (in order). */
  maxRunning = 0
  launched: string[] = []

  constructor(
    private plan: (spec: AttemptSpec) => FakePlan,
    readonly world = new FakeWorld(),
    private slots = 8,
    readonly name = 'fake',
  ) {}

  private runningNow(): number {
    return [...this.mine.values()].filter((m) => m.status === 'running').length
  }

  onEvent(listener: (e: ExecutorEvent) => void): () => void {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }

  async capacity(): Promise<number> {
    return this.closed ? 0 : Math.max(0, this.slots - this.runningNow())
  }

  async launch(spec: AttemptSpec): Promise<string> {
    const id = `fake:${spec.key}`
    if (this.mine.has(spec.key)) return id
    this.world.launches.push(spec.key)
    this.launched.push(spec.key)
    const plan = this.plan(spec)
    this.emit({ type: 'started', key: spec.key, externalId: id })
    if (plan.do === 'lose') return id
    const entry: { status: AttemptStatus; timer?: NodeJS.Timeout } = { status: 'running' }
    this.mine.set(spec.key, entry)
    this.maxRunning = Math.max(this.maxRunning, this.runningNow())
    if (plan.do === 'outlive') {
      const outliving = { owner: this as FakeExecutor | null, result: plan.result ?? null, done: false }
      this.world.running.set(spec.key, outliving)
      setTimeout(() => {
        outliving.done = true
        outliving.owner?.end(spec.key, { ok: true, result: outliving.result })
      }, plan.afterMs)
      return id
    }
    entry.timer = setTimeout(
      () =>
        this.end(spec.key, plan.do === 'succeed' ? { ok: true, result: plan.result ?? null } : { ok: false, reason: plan.reason ?? 'fake failure' }),
      plan.afterMs ?? 0,
    )
    return id
  }

  /** Ends an attempt this executor reports on. */
  end(key: string, r: { ok: true; result: unknown } | { ok: false; reason: string }): void {
    const entry = this.mine.get(key)
    if (!entry || entry.status !== 'running') return
    entry.status = 'finished'
    clearTimeout(entry.timer)
    this.world.running.delete(key)
    this.emit({
      type: 'finished',
      key,
      outcome: r.ok
        ? { kind: 'result', ok: true, result: r.result }
        : { kind: 'result', ok: false, error: r.reason, reason: r.reason, nonRetryable: false },
    })
  }

  async cancel(key: string, reason: string): Promise<void> {
    this.end(key, { ok: false, reason })
  }

  async status(keys: string[]): Promise<Map<string, AttemptStatus>> {
    return new Map(keys.map((k) => [k, this.mine.get(k)?.status ?? 'unknown']))
  }

  async adopt(attempts: OrphanAttempt[]): Promise<string[]> {
    const adopted: string[] = []
    for (const a of attempts) {
      const running = this.world.running.get(a.key)
      if (!running) continue
      running.owner = this
      this.mine.set(a.key, { status: 'running' })
      adopted.push(a.key)
      // Finished while no executor watched it: report it now that one does.
      if (running.done) setTimeout(() => this.end(a.key, { ok: true, result: running.result }), 0)
    }
    return adopted
  }

  /** Attempts that outlive their executor keep running in the world; the others stop as on a clean shutdown. */
  async close(): Promise<void> {
    this.closed = true
    for (const [key, entry] of this.mine) {
      if (entry.status !== 'running') continue
      const outliving = this.world.running.get(key)
      if (outliving) {
        outliving.owner = null
        this.mine.delete(key)
      } else this.end(key, { ok: false, reason: SHUTDOWN_REASON })
    }
  }

  private emit(e: ExecutorEvent): void {
    emitTo(this.listeners, e)
  }
}
