import { Worker } from 'node:worker_threads'
import { CodeDigests } from '../../dag/code-digest.ts'
import type { AttemptSpec, ExecutorEvent } from '../executor.ts'
import { CANCEL_GRACE_MS, failed } from '../executor.ts'
import type { TaskOutcome } from '../run-task.ts'

const WORKER = new URL('./thread-worker-boot.mjs', import.meta.url)

interface Slot {
  worker: Worker
  keys: Set<string>
  /** The code digest of each DAG file this thread has run code of: ES modules stay loaded for its lifetime. */
  code: Map<string, string>
  /** Replaced because its loaded code is stale: it takes no new attempt and ends once it runs none. */
  retiring: boolean
  /** Booted: the loader, the worker and the authoring API are loaded, so an attempt starts at once. */
  ready: boolean
}

/**
 * A pool of worker threads for light tasks, assigned least-loaded first. A thread cannot kill one of its tasks, so
 * a cancelled task that ignores its AbortSignal past the grace period costs a restart of its thread; the other
 * attempts on that thread then fail (retryably) with a reason that says so.
 */
export class ThreadPool {
  private slots: Slot[] = []
  private cancelled = new Map<string, string>()
  private owner = new Map<string, Slot>()
  private closing = false
  private digests = new CodeDigests()

  constructor(
    size: number,
    private emit: (e: ExecutorEvent) => void,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER)
    const slot: Slot = { worker, keys: new Set(), code: new Map(), retiring: false, ready: false }
    worker.on(
      'message',
      (m: { type: string; key: string; chunk?: string; outcome?: TaskOutcome; done?: number; total?: number | null; unit?: string }) => {
        if (m.type === 'ready') {
          slot.ready = true
          this.emit({ type: 'capacity' })
        } else if (m.type === 'log') this.emit({ type: 'log', key: m.key, chunk: m.chunk! })
        else if (m.type === 'progress') this.emit({ type: 'progress', key: m.key, done: m.done!, total: m.total ?? null, unit: m.unit! })
        else if (m.type === 'outcome') this.finish(slot, m.key, m.outcome!)
      },
    )
    worker.on('error', (err) => this.restart(slot, `worker thread crashed: ${err.message}`))
    // A task may end its thread itself (process.exit() in a worker ends the thread): its attempts must still end.
    worker.on('exit', (code) => this.restart(slot, `worker thread exited with code ${code}`))
    worker.unref()
    return slot
  }

  /**
   * Whether a thread has booted. Booting one takes a second or more of CPU (several on a busy machine); an attempt
   * handed to a thread still booting waits for it, and dies with its scheduler if that is killed meanwhile.
   */
  ready(): boolean {
    return this.slots.some((s) => s.ready && !s.retiring)
  }

  /** Starts `spec` on a thread that holds no other code of its DAG file, and returns the thread's external id. */
  start(spec: AttemptSpec): string {
    const slot = this.slotFor(spec)
    slot.keys.add(spec.key)
    this.owner.set(spec.key, slot)
    const externalId = `local:${process.pid}:thread${slot.worker.threadId}`
    this.emit({ type: 'started', key: spec.key, externalId })
    slot.worker.postMessage({ type: 'run', spec })
    return externalId
  }

  /**
   * The least-loaded thread that has not run other code of `spec`'s DAG file. The code is what is on disk now
   * (its digest, code-digest.ts): ESM cannot unload a module, so every thread that loaded another digest of the
   * file is replaced first, and an edit to a task body or a helper takes effect at the next attempt. A replaced
   * thread finishes what it runs, then ends.
   */
  private slotFor(spec: AttemptSpec): Slot {
    const digest = this.digests.current(spec.file).digest
    for (const slot of [...this.slots]) {
      const loaded = slot.code.get(spec.file)
      if (!slot.retiring && loaded !== undefined && loaded !== digest) this.replace(slot)
    }
    // Least loaded first, so that one thread's end (a task ignoring its timeout) takes as few others with it; among
    // equals a booted thread, which starts the attempt at once.
    const open = this.slots.filter((s) => !s.retiring)
    const slot = open.reduce((a, b) => (b.keys.size < a.keys.size || (b.keys.size === a.keys.size && b.ready && !a.ready) ? b : a))
    slot.code.set(spec.file, digest)
    return slot
  }

  private replace(slot: Slot): void {
    slot.retiring = true
    this.slots.push(this.spawn())
    this.endIfRetired(slot)
  }

  private endIfRetired(slot: Slot): void {
    if (!slot.retiring || slot.keys.size > 0) return
    const idx = this.slots.indexOf(slot)
    if (idx >= 0) this.slots.splice(idx, 1)
    void slot.worker.terminate()
  }

  cancel(key: string, reason: string): void {
    const slot = this.owner.get(key)
    if (!slot || this.cancelled.has(key)) return
    this.cancelled.set(key, reason)
    slot.worker.postMessage({ type: 'cancel', key, reason })
    setTimeout(() => {
      if (this.owner.get(key) === slot) this.restart(slot, `worker thread restarted to stop a task that ignored cancellation (${key})`)
    }, CANCEL_GRACE_MS).unref()
  }

  private finish(slot: Slot, key: string, outcome: TaskOutcome): void {
    if (this.owner.get(key) !== slot) return
    slot.keys.delete(key)
    this.owner.delete(key)
    const reason = this.cancelled.get(key)
    this.cancelled.delete(key)
    const result = reason
      ? failed(reason, reason)
      : outcome.ok
        ? { kind: 'result' as const, ok: true as const, result: outcome.result, ...(outcome.outlets?.length ? { outlets: outcome.outlets } : {}) }
        : failed(outcome.error, outcome.reason, outcome.nonRetryable)
    this.emit({ type: 'finished', key, outcome: result })
    this.endIfRetired(slot)
  }

  /** Ends a thread (if it has not ended) and everything it held, and puts a fresh one in its place. */
  private restart(slot: Slot, why: string): void {
    const idx = this.slots.indexOf(slot)
    if (idx < 0 || this.closing) return
    void slot.worker.terminate()
    for (const key of slot.keys) this.finish(slot, key, { ok: false, error: why, nonRetryable: false, reason: why })
    // A retiring thread already has its replacement (finish above removed it from the pool).
    if (!slot.retiring) this.slots[idx] = this.spawn()
  }

  async close(): Promise<void> {
    this.closing = true
    // Attempts that ignored cancellation end with their thread; each still reports, with its cancel reason.
    for (const slot of [...this.slots])
      for (const key of slot.keys)
        this.finish(slot, key, { ok: false, error: 'worker thread stopped', nonRetryable: false, reason: 'worker thread stopped' })
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
    this.slots = []
  }
}
