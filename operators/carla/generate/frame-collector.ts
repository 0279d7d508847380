/**
 * Matches stream messages to frames. Socket handlers push into it and never wait; the tick loop takes frame F
 * from every stream with a deadline. Buffers are bounded: if a stream runs ahead by more than the bound, the shard
 * fails with a message naming the stream, rather than dropping data silently or growing without limit.
 */
import { ForgeError } from '../../../runtime/index.ts'
import { abortable } from './abort.ts'

export class FrameBufferOverflowError extends ForgeError {
  constructor(message: string) {
    super('carla_buffer_overflow', message)
  }
}
export class FrameTimeoutError extends ForgeError {
  constructor(message: string) {
    super('carla_frame_timeout', message)
  }
}

interface StreamSlot {
  frames: Map<number, Buffer>
  lastFrame: number
  waiter: { frame: number; resolve(b: Buffer): void } | null
}

export interface CollectorLimits {
  /** Messages held per stream before failing (default 32). */
  maxFramesPerStream?: number
  /** Bytes held across streams before failing (default 512 MB). */
  maxBytes?: number
}

export class FrameCollector {
  private readonly slots = new Map<string, StreamSlot>()
  private bytes = 0
  private failure: Error | null = null
  /** Until the first take, nobody wants any frame yet (e.g. the observer streaming in async mode): keep the newest. */
  private armed = false
  private readonly failListeners = new Set<(e: Error) => void>()
  private readonly maxFrames: number
  private readonly maxBytes: number

  constructor(limits: CollectorLimits = {}) {
    this.maxFrames = limits.maxFramesPerStream ?? 32
    this.maxBytes = limits.maxBytes ?? 512 * 1024 * 1024
  }

  addStream(name: string): void {
    this.slots.set(name, { frames: new Map(), lastFrame: -1, waiter: null })
  }

  /** From a socket handler: store or hand over; never blocks. */
  push(name: string, frame: number, payload: Buffer): void {
    const slot = this.slots.get(name)
    if (!slot || this.failure) return
    slot.lastFrame = Math.max(slot.lastFrame, frame)
    if (slot.waiter && slot.waiter.frame === frame) {
      const w = slot.waiter
      slot.waiter = null
      return w.resolve(payload)
    }
    slot.frames.set(frame, payload)
    this.bytes += payload.length
    if (!this.armed && slot.frames.size > 1) {
      const [oldest, buf] = slot.frames.entries().next().value as [number, Buffer]
      slot.frames.delete(oldest)
      this.bytes -= buf.length
    }
    if (slot.frames.size > this.maxFrames || this.bytes > this.maxBytes) {
      this.fail(
        new FrameBufferOverflowError(
          `stream '${name}' buffered ${slot.frames.size} frames (${(this.bytes / 1e6).toFixed(1)} MB held in total) ` +
            `without being consumed; limits are ${this.maxFrames} frames per stream and ${(this.maxBytes / 1e6).toFixed(0)} MB`,
        ),
      )
    }
  }

  /** A stream or connection died: every current and future take rejects with this error. */
  fail(err: Error): void {
    if (this.failure) return
    this.failure = err
    for (const slot of this.slots.values()) slot.frames.clear()
    this.bytes = 0
    for (const l of this.failListeners) l(err)
  }

  get failed(): Error | null {
    return this.failure
  }

  /** Forgets frames older than `frame` (warm-up frames and late sensor lag). */
  discardBefore(frame: number): void {
    for (const slot of this.slots.values()) {
      for (const [f, b] of slot.frames) if (f < frame) (slot.frames.delete(f), (this.bytes -= b.length))
    }
  }

  /** Frame `frame` from each named stream, or a FrameTimeoutError naming the streams still missing it. */
  async takeAll(names: readonly string[], frame: number, timeoutMs: number, signal?: AbortSignal): Promise<Map<string, Buffer>> {
    if (this.failure) throw this.failure
    this.armed = true
    this.discardBefore(frame)
    const got = new Map<string, Buffer>()
    const pending: Array<Promise<void>> = []
    for (const name of names) {
      const slot = this.slots.get(name)
      if (!slot) throw new Error(`unknown stream '${name}'`)
      const ready = slot.frames.get(frame)
      if (ready) {
        slot.frames.delete(frame)
        this.bytes -= ready.length
        got.set(name, ready)
        continue
      }
      pending.push(
        new Promise<void>((resolve) => {
          slot.waiter = { frame, resolve: (b) => (got.set(name, b), resolve()) }
        }),
      )
    }
    if (pending.length === 0) return got
    let timer: NodeJS.Timeout | undefined
    let onFail: ((e: Error) => void) | undefined
    try {
      await abortable(
        Promise.race([
          Promise.all(pending),
          new Promise<never>((_, reject) => {
            onFail = reject
            this.failListeners.add(reject)
            timer = setTimeout(() => reject(this.timeoutError(names, got, frame, timeoutMs)), timeoutMs)
          }),
        ]),
        signal,
      )
      return got
    } finally {
      clearTimeout(timer)
      if (onFail) this.failListeners.delete(onFail)
      for (const name of names) {
        const slot = this.slots.get(name)!
        if (slot.waiter?.frame === frame) slot.waiter = null
      }
    }
  }

  private timeoutError(names: readonly string[], got: Map<string, Buffer>, frame: number, ms: number): FrameTimeoutError {
    const missing = names.filter((n) => !got.has(n)).map((n) => `${n} (latest frame ${this.slots.get(n)!.lastFrame})`)
    return new FrameTimeoutError(`timed out after ${ms} ms waiting for frame ${frame} from: ${missing.join(', ')}`)
  }
}
