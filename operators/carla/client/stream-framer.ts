/**
 * Splits a stream socket's bytes into u32-LE length-framed messages.
 *
 * Why not "concat everything and slice": a 1280×720 camera message is 3.7 MB that arrives as ~60 chunks, and
 * re-concatenating the backlog on every chunk is quadratic. Here a message that lies inside one chunk is returned
 * as a zero-copy view; a message that spans chunks gets one buffer of its exact size, and each chunk is copied into
 * it once as it arrives.
 */
import { CarlaProtocolError } from './errors.ts'

export class StreamFramer {
  private readonly header = Buffer.alloc(4)
  private headerHave = 0
  private body: Buffer | null = null
  private bodyHave = 0

  constructor(
    private readonly onMessage: (payload: Buffer) => void,
    /** Larger lengths mean a broken or foreign peer; fail before allocating gigabytes. */
    private readonly maxMessageBytes = 256 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let off = 0
    const n = chunk.length
    while (off < n) {
      if (this.body === null) {
        // Fast path: the whole length prefix is in this chunk.
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
          this.onMessage(chunk.subarray(off, off + len))
          off += len
          continue
        }
        this.body = Buffer.allocUnsafe(len)
        this.bodyHave = 0
      }
      const take = Math.min(this.body.length - this.bodyHave, n - off)
      chunk.copy(this.body, this.bodyHave, off, off + take)
      this.bodyHave += take
      off += take
      if (this.bodyHave === this.body.length) {
        const done = this.body
        this.body = null
        this.onMessage(done)
      }
    }
  }

  /** Bytes of a message still being received (for error messages on close). */
  get partialBytes(): number {
    return this.body ? this.bodyHave : this.headerHave
  }
}
