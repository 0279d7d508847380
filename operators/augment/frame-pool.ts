/**
 * A pool of worker threads augmenting frames: one frame per worker at a time, so in-flight frames are bounded by
 * the pool size (and the caller's window). libvips uses one thread per image by default on glibc; with one worker
 * per core that keeps every core busy without oversubscribing.
 */
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { TaskFailure, type TaskContext } from '../../runtime/index.ts'
import type { FrameJob, FrameResult } from './augment-frame.ts'
import type { WorkerSettings } from './augment-worker.ts'
import { workerScript, type WorkerScript } from './worker-bundle.ts'

export interface FramePoolOptions {
  /** Worker threads (default: available cores). */
  workers?: number
  /** libvips threads per image in each worker (default 1). */
  vipsThreads?: number
  /** False: the TypeScript passes instead of the WebAssembly SIMD ones (the same bytes; for checks and debugging). */
  wasm?: boolean
  /** False: the workers load the TypeScript through tsx, as when esbuild is not installed. */
  bundle?: boolean
  /** Told once, when the first worker is ready, how the workers were loaded and which passes they run. */
  log?: TaskContext['log']
}

interface Pending {
  resolve(r: FrameResult): void
  reject(e: Error): void
}

export class FramePool {
  readonly size: number
  private readonly workers: Worker[] = []
  private readonly idle: Worker[] = []
  private readonly waiting: Array<() => void> = []
  private readonly pending = new Map<number, Pending>()
  private readonly busy = new Map<Worker, number>()
  private nextId = 1
  private failure: Error | null = null
  private closed = false

  /** Workers start once the bundled worker script is ready. */
  private readonly started: Promise<void>

  constructor(opts: FramePoolOptions = {}) {
    this.size = Math.max(1, opts.workers ?? os.availableParallelism())
    const script: Promise<WorkerScript> = opts.bundle === false ? Promise.resolve({ script: null, reason: 'bundle: false' }) : workerScript()
    this.started = script.then((s) => this.spawn(s, { vipsThreads: opts.vipsThreads ?? 1, wasm: opts.wasm ?? true }, opts.log))
  }

  private spawn(loaded: WorkerScript, workerData: WorkerSettings, log: FramePoolOptions['log']): void {
    if (this.closed) return
    let told = false
    for (let i = 0; i < this.size; i++) {
      // Without esbuild, the .mjs entry loads the TypeScript through tsx.
      const w = loaded.script
        ? new Worker(loaded.script, { eval: true, workerData })
        : new Worker(new URL('./augment-worker.mjs', import.meta.url), { workerData })
      w.on('message', (m: { ready?: true; passes?: string; id: number; ok: boolean; result?: FrameResult; error?: string }) => {
        if (m.ready) {
          if (!told && log) {
            told = true
            const loader = loaded.script === null ? `tsx (${loaded.reason})` : 'esbuild bundle'
            log(`augment workers: ${this.size}, loaded as ${loader}, ${m.passes} passes`, { workers: this.size, loader, passes: m.passes })
          }
          return this.release(w)
        }
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        this.busy.delete(w)
        this.release(w)
        if (!p) return
        if (m.ok) p.resolve(m.result!)
        else p.reject(new TaskFailure(`augmenting frame failed: ${m.error}`, 'AugmentError'))
      })
      w.on('error', (e) => this.fail(new TaskFailure(`augment worker thread failed: ${e.message}`, 'AugmentError')))
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new TaskFailure(`augment worker thread exited (code ${code})`, 'AugmentError'))
      })
      this.workers.push(w)
    }
  }

  /** Resolves with the frame's result once a worker has done it; waits for a free worker first. */
  async run(job: FrameJob): Promise<FrameResult> {
    const w = await this.acquire()
    const id = this.nextId++
    return new Promise<FrameResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.busy.set(w, id)
      w.postMessage({ id, job })
    })
  }

  async close(): Promise<void> {
    this.closed = true
    this.fail(new TaskFailure('augment pool closed', 'AugmentError'))
    await this.started
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  private async acquire(): Promise<Worker> {
    await this.started
    if (this.failure) throw this.failure
    const w = this.idle.pop()
    if (w) return Promise.resolve(w)
    return new Promise((resolve, reject) => {
      this.waiting.push(() => (this.failure ? reject(this.failure) : resolve(this.idle.pop()!)))
    })
  }

  private release(w: Worker): void {
    this.idle.push(w)
    this.waiting.shift()?.()
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err
    for (const [id, p] of this.pending) {
      this.pending.delete(id)
      p.reject(this.failure)
    }
    for (const wake of this.waiting.splice(0)) wake()
  }
}
