/**
 * Reuses the large message buffers camera frames arrive in. A fresh 3.7 MB buffer per 1280×720 image costs
 * ~900 page faults on first touch plus GC and munmap on release; recycling them (they come back from the writer
 * threads after the file is written) keeps that off the hot path.
 */
export class BufferRecycler {
  private readonly free = new Map<number, ArrayBuffer[]>()

  constructor(
    /** Smaller messages are cheap to allocate and are not recycled. */
    readonly minBytes = 1024 * 1024,
    private readonly maxPerSize = 16,
  ) {}

  /** A buffer of exactly `len` bytes that owns its whole ArrayBuffer (so it can be transferred to a worker). */
  alloc(len: number): Buffer {
    const ab = len >= this.minBytes ? this.free.get(len)?.pop() : undefined
    if (ab) return Buffer.from(ab, 0, len)
    return len >= this.minBytes ? Buffer.from(new ArrayBuffer(len)) : Buffer.allocUnsafe(len)
  }

  give(ab: ArrayBuffer): void {
    if (ab.byteLength < this.minBytes) return
    const list = this.free.get(ab.byteLength) ?? []
    if (list.length < this.maxPerSize) list.push(ab)
    this.free.set(ab.byteLength, list)
  }
}
