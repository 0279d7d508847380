/**
 * A bounded pool of file-writing worker threads (encode, write, checksum). The tick loop calls `waitForRoom()`
 * before asking the server for the next frame, which slows the simulation (fine in sync mode) instead of the
 * stream readers; `submit()` past the hard bound throws, so a bug cannot turn into unbounded memory.
 */
import { Worker } from 'node:worker_threads'
import os from 'node:os'
import { ForgeError } from '../../../runtime/index.ts'

export type Encoding = 'raw' | 'png-rgb' | 'png-gray-r'

export interface WriteJob {
  path: string
  encoding: Encoding
  width: number
  height: number
  /** BGRA8 pixels; transferred to the worker when the buffer owns its whole ArrayBuffer, copied otherwise. */
  pixels: Buffer
  compression?: number
}

export interface WrittenFile {
  path: string
  bytes: number
  sha256: string
}

export class WriterOverflowError extends ForgeError {
  constructor(message: string) {
    super('carla_writer_overflow', message)
  }
}

interface WorkerReply {
  id: number
  ok: boolean
  bytes?: number
  sha256?: string
  error?: string
  /** The job's buffer, transferred back after writing when it was transferred in. */
  buffer?: ArrayBuffer
}

interface InFlight {
  resolve(f: WrittenFile): void
  reject(e: Error): void
  bytes: number
  path: string
  timer: NodeJS.Timeout
}

export interface WriterPoolOptions {
  workers?: number
  /** The loop waits while more than this many bytes are queued (default 256 MB). */
  highWaterBytes?: number
  /** submit() throws past this (default 1 GB). */
  maxBytes?: number
  /** Receives each transferred buffer back once its file is written (see BufferRecycler). */
  recycle?: (buffer: ArrayBuffer) => void
  /** A job not done after this long fails the pool (a stuck disk or thread must not hang the shard; default 60 s). */
  jobTimeoutMs?: number
}

export class WriterPool {
  private readonly workers: Worker[] = []
  private readonly load: number[] = []
  private readonly inflight = new Map<number, InFlight>()
  private nextId = 1
  private queuedBytes = 0
  private roomWaiters: Array<() => void> = []
  private failure: Error | null = null
  readonly highWater: number
  readonly maxBytes: number
  private readonly recycle?: (buffer: ArrayBuffer) => void
  private readonly jobTimeoutMs: number
  private closing = false

  constructor(opts: WriterPoolOptions = {}) {
    this.highWater = opts.highWaterBytes ?? 256 * 1024 * 1024
    this.maxBytes = opts.maxBytes ?? 1024 * 1024 * 1024
    this.recycle = opts.recycle
    this.jobTimeoutMs = opts.jobTimeoutMs ?? 60_000
    const n = opts.workers ?? Math.max(1, Math.min(4, os.availableParallelism()))
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./file-worker.mjs', import.meta.url))
      w.on('message', (m: WorkerReply) => this.onDone(i, m))
      w.on('error', (e) => this.failAll(new ForgeError('carla_writer', `file writer thread failed: ${e.message}`, { cause: e })))
      w.on('exit', (code) => {
        if (!this.closing) this.failAll(new ForgeError('carla_writer', `file writer thread exited (code ${code})`))
      })
      this.workers.push(w)
      this.load.push(0)
    }
  }

  submit(job: WriteJob): Promise<WrittenFile> {
    if (this.failure) return Promise.reject(this.failure)
    const size = job.pixels.length
    if (this.queuedBytes + size > this.maxBytes) {
      throw new WriterOverflowError(
        `writer queue holds ${(this.queuedBytes / 1e6).toFixed(0)} MB; adding ${job.path} would pass the ${(this.maxBytes / 1e6).toFixed(0)} MB bound`,
      )
    }
    const id = this.nextId++
    // Zero-copy when the pixels are the tail of a buffer allocated for this one message (the stream framer's
    // buffers are): then nothing else can be using that ArrayBuffer and it is transferred. Otherwise copy.
    const whole = job.pixels.buffer as ArrayBuffer
    const transferable = size > 8192 && job.pixels.byteOffset <= 64 && whole.byteLength === job.pixels.byteOffset + size
    const buffer = transferable ? whole : new Uint8Array(job.pixels).buffer
    const byteOffset = transferable ? job.pixels.byteOffset : 0
    const w = this.pickWorker()
    this.load[w]!++
    this.queuedBytes += size
    return new Promise<WrittenFile>((resolve, reject) => {
      const timer = setTimeout(
        () => this.failAll(new ForgeError('carla_writer', `writing ${job.path} took more than ${this.jobTimeoutMs} ms`)),
        this.jobTimeoutMs,
      )
      timer.unref()
      this.inflight.set(id, { resolve, reject, bytes: size, path: job.path, timer })
      this.workers[w]!.postMessage(
        {
          id,
          path: job.path,
          encoding: job.encoding,
          width: job.width,
          height: job.height,
          compression: job.compression,
          buffer,
          byteOffset,
          byteLength: size,
          giveBack: transferable,
        },
        [buffer],
      )
    })
  }

  get pendingBytes(): number {
    return this.queuedBytes
  }

  /** Resolves once queued bytes are under the high-water mark. */
  waitForRoom(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.queuedBytes <= this.highWater) return Promise.resolve()
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }

  /** Waits for every submitted job; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) {
      if (this.failure) throw this.failure
      await new Promise<void>((r) => this.roomWaiters.push(r))
    }
    if (this.failure) throw this.failure
  }

  async close(): Promise<void> {
    this.closing = true
    this.failAll(new ForgeError('carla_writer', 'writer pool closed'))
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  private pickWorker(): number {
    let best = 0
    for (let i = 1; i < this.load.length; i++) if (this.load[i]! < this.load[best]!) best = i
    return best
  }

  private onDone(worker: number, m: WorkerReply): void {
    this.load[worker]!--
    if (m.buffer && this.recycle) this.recycle(m.buffer)
    const job = this.inflight.get(m.id)
    if (!job) return
    this.inflight.delete(m.id)
    clearTimeout(job.timer)
    this.queuedBytes -= job.bytes
    if (m.ok) job.resolve({ path: job.path, bytes: m.bytes!, sha256: m.sha256! })
    else {
      const err = new ForgeError('carla_writer', `writing ${job.path} failed: ${m.error}`)
      job.reject(err)
      this.failAll(err)
    }
    this.wake()
  }

  private wake(): void {
    if (this.queuedBytes > this.highWater && this.inflight.size > 0 && !this.failure) return
    const waiters = this.roomWaiters
    this.roomWaiters = []
    for (const w of waiters) w()
  }

  private failAll(err: Error): void {
    if (!this.failure) this.failure = err
    for (const [id, job] of this.inflight) {
      this.inflight.delete(id)
      clearTimeout(job.timer)
      job.reject(this.failure)
    }
    this.queuedBytes = 0
    this.wake()
  }
}
