import { Worker } from 'node:worker_threads'
import { CodeDigests } from '../../dag/code-digest.ts'
import { successorSpec, type ChainClaim, type ChainSettings } from '../../scheduler/chain-edge.ts'
import { chainSuccessor } from '../../scheduler/handoff.ts'
import type { AttemptSpec, ExecutorEvent } from '../executor.ts'
import { failure } from '../executor.ts'
import type { TaskOutcome } from '../run-task.ts'
import { CANCEL_GRACE_MS } from './process-attempt.ts'

const WORKER = new URL('./thread-worker-boot.mjs', import.meta.url)

interface Slot {
  worker: Worker
  keys: Set<string>
  /** DAG versions this thread holds, so each serialized DAG crosses to it once. */
  versions: Set<number>
  /** The code digest of each DAG file this thread has run code of: ES modules stay loaded for its lifetime. */
  code: Map<string, string>
  /** Replaced because its loaded code is stale: it takes no new attempt and ends once it runs none. */
  retiring: boolean
  drained?: () => void
}

/**
 * A fixed pool of worker threads for light tasks, assigned least-loaded first. A thread cannot kill one of its
 * tasks, so a cancelled task that ignores its AbortSignal past the grace period costs a restart of its thread;
 * the other attempts on that thread then fail (retryably) with a reason that says so. A thread that loaded one
 * version of a DAG file's code is replaced before an attempt of another version runs (see slotFor).
 */
export class ThreadPool {
  private slots: Slot[] = []
  private cancelled = new Map<string, string>()
  private owner = new Map<string, Slot>()
  /** Specs of the attempts running, as the scheduler built them (a chained successor's is built from its predecessor's). */
  private specs = new Map<string, AttemptSpec>()
  private chain: ChainSettings | null = null
  private closing = false
  private digests = new CodeDigests()

  constructor(size: number, private emit: (e: ExecutorEvent) => void) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER)
    const slot: Slot = { worker, keys: new Set(), versions: new Set(), code: new Map(), retiring: false }
    if (this.chain) worker.postMessage({ type: 'chain', settings: this.chain })
    worker.on('message', (m: { type: string; key: string; chunk?: string; outcome?: TaskOutcome; done?: number; total?: number | null; unit?: string; value?: unknown; claim?: ChainClaim | null }) => {
      if (m.type === 'log') this.emit({ type: 'log', key: m.key, chunk: m.chunk! })
      else if (m.type === 'chained') this.chained(slot, m.key, m.value, m.claim ?? null)
      else if (m.type === 'drained') slot.drained?.()
      else if (m.type === 'progress') this.emit({ type: 'progress', key: m.key, done: m.done!, total: m.total ?? null, unit: m.unit! })
      else if (m.type === 'outcome') this.finish(slot, m.key, m.outcome!)
    })
    worker.on('error', (err) => this.restart(slot, `worker thread crashed: ${err.message}`))
    // A task may end its thread itself (process.exit() in a worker ends the thread): its attempts must still end.
    worker.on('exit', (code) => this.restart(slot, `worker thread exited with code ${code}`))
    worker.unref()
    return slot
  }

  start(spec: AttemptSpec): void {
    const slot = this.slotFor(spec)
    slot.keys.add(spec.key)
    this.owner.set(spec.key, slot)
    this.specs.set(spec.key, spec)
    this.emit({ type: 'started', key: spec.key, executorId: `local:${process.pid}:thread${slot.worker.threadId}` })
    if (spec.chain?.dag && slot.versions.has(spec.chain.versionId)) spec = { ...spec, chain: { runPk: spec.chain.runPk, versionId: spec.chain.versionId } }
    else if (spec.chain?.dag) slot.versions.add(spec.chain.versionId)
    slot.worker.postMessage({ type: 'run', spec })
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
    const slot = this.slots.filter((s) => !s.retiring).reduce((a, b) => (b.keys.size < a.keys.size ? b : a))
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
    slot.drained?.()
  }

  /** Lets the threads take chain edges from now on (and any thread spawned later). */
  enableChaining(settings: ChainSettings): void {
    this.chain = settings
    for (const slot of this.slots) slot.worker.postMessage({ type: 'chain', settings })
  }

  /** A thread recorded `key`'s success and perhaps started its successor: both now belong to that thread. */
  private chained(slot: Slot, key: string, value: unknown, claim: ChainClaim | null): void {
    if (this.owner.get(key) !== slot) return
    const spec = this.specs.get(key)!
    const successor = claim && spec.chain?.dag ? chainSuccessor(spec.chain.dag, spec.task) : null
    const next = claim && successor ? successorSpec(spec, successor, claim, value) : null
    slot.keys.delete(key)
    this.owner.delete(key)
    this.specs.delete(key)
    // A cancel that lost the race to the result changes nothing: the success is already recorded.
    this.cancelled.delete(key)
    this.emit({ type: 'chained', key, value, next })
    if (!next) return this.endIfRetired(slot)
    slot.keys.add(next.key)
    this.owner.set(next.key, slot)
    this.specs.set(next.key, next)
    this.emit({ type: 'started', key: next.key, executorId: `local:${process.pid}:thread${slot.worker.threadId}` })
  }

  /**
   * Stops the threads taking chain edges and waits until every edge already taken has been reported, so that a
   * stopping scheduler cancels (and requeues) successors it would otherwise not know about.
   */
  async drain(timeoutMs = 2000): Promise<void> {
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs)
            slot.drained = () => {
              clearTimeout(timer)
              resolve()
            }
            slot.worker.postMessage({ type: 'drain' })
          }),
      ),
    )
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
    this.specs.delete(key)
    const reason = this.cancelled.get(key)
    this.cancelled.delete(key)
    if (reason) this.emit(failure(key, reason, reason))
    else if (outcome.ok) this.emit({ type: 'finished', key, ok: true, result: outcome.result })
    else this.emit(failure(key, outcome.error, outcome.reason, outcome.nonRetryable))
    this.endIfRetired(slot)
  }

  /** Ends a thread (if it has not ended) and everything it held, and puts a fresh one in its place. */
  private restart(slot: Slot, why: string): void {
    const idx = this.slots.indexOf(slot)
    if (idx < 0 || this.closing) return
    void slot.worker.terminate()
    for (const key of slot.keys) this.finish(slot, key, { ok: false, error: why, nonRetryable: false, reason: why })
    // Edges it had in flight are reported above as plain failures; a drain must not wait for its answer.
    slot.drained?.()
    // A retiring thread already has its replacement (finish above removed it from the pool).
    if (!slot.retiring) this.slots[idx] = this.spawn()
  }

  async close(): Promise<void> {
    this.closing = true
    // Attempts that ignored cancellation end with their thread; each still reports, with its cancel reason.
    for (const slot of [...this.slots]) for (const key of slot.keys) this.finish(slot, key, { ok: false, error: 'worker thread stopped', nonRetryable: false, reason: 'worker thread stopped' })
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
    this.slots = []
  }
}
