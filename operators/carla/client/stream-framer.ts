/**
 * Splits a stream socket's bytes into u32-LE length-framed messages.
 *
 * Why not "concat everything and slice": a 1280×720 camera message is 3.7 MB that arrives as ~60 chunks, and
 * re-concatenating the backlog on every chunk is quadratic. Two modes:
 * - push(chunk): a message inside one chunk is returned as a zero-copy view; one that spans chunks gets a buffer
 *   of its exact size, and each chunk is copied into it once.
 * - readTarget()/commit(n), for net's `onread`: the kernel writes message bodies straight into their final
 *   buffer (no copy in JS at all); only headers and small messages pass through a reused scratch buffer.
 */
import { CarlaProtocolError } from './errors.ts'

const SCRATCH_BYTES = 64 * 1024

export class StreamFramer {
  private readonly header = Buffer.alloc(4)
  private headerHave = 0
  private body: Buffer | null = null
  private bodyHave = 0
  private scratch: Buffer | null = null
  /** True while reads go to scratch, whose bytes are reused: messages found there must be copied out. */
  private inScratch = false

  constructor(
    private readonly onMessage: (payload: Buffer) => void,
    /** Larger lengths mean a broken or foreign peer; fail before allocating gigabytes. */
    private readonly maxMessageBytes = 256 * 1024 * 1024,
    /** Where message bodies come from (e.g. a BufferRecycler); must return exactly `len` bytes. */
    private readonly allocate: (len: number) => Buffer = (len) => Buffer.allocUnsafe(len),
  ) {}

  /** Where the next socket read should land: the unfilled part of the current body, or the scratch buffer. */
  readTarget(): Buffer {
    if (this.body && this.bodyHave < this.body.length) return this.body.subarray(this.bodyHave)
    this.scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES)
    return this.scratch
  }

  /** `n` bytes were read into the buffer readTarget() returned. */
  commit(target: Buffer, n: number): void {
    if (this.body && target.buffer === this.body.buffer) {
      this.bodyHave += n
      if (this.bodyHave === this.body.length) this.emitBody()
      return
    }
    this.inScratch = true
    try {
      this.push(target.subarray(0, n))
    } finally {
      this.inScratch = false
    }
  }

  push(chunk: Buffer): void {
    let off = 0
    const n = chunk.length
    while (off < n) {
      if (this.body === null) {
        let len: number
        if (this.headerHave === 0 && n - off >= 4) {
          len = chunk.readUInt32LE(off)
          off += 4
        } else {
          const take = Math.min(4 - this.headerHave, n - off)
          chunk.copy(this.header, this.headerHave, off, off + take)
          this.headerHave += take
          off += take
          if (this.headerHave < 4) return
          this.headerHave = 0
          len = this.header.readUInt32LE(0)
        }
        if (len > this.maxMessageBytes) throw new CarlaProtocolError(`stream message of ${len} bytes exceeds ${this.maxMessageBytes}`)
        if (n - off >= len) {
          const view = chunk.subarray(off, off + len)
          this.onMessage(this.inScratch ? Buffer.from(view) : view)
          off += len
          continue
        }
        this.body = this.allocate(len)
        this.bodyHave = 0
      }
      const take = Math.min(this.body.length - this.bodyHave, n - off)
      chunk.copy(this.body, this.bodyHave, off, off + take)
      this.bodyHave += take
      off += take
      if (this.bodyHave === this.body.length) this.emitBody()
    }
  }

  private emitBody(): void {
    const done = this.body!
    this.body = null
    this.bodyHave = 0
    this.onMessage(done)
  }
}
