import type { LogChunk } from '../store/attempt-log.ts'

/** How long output may wait before it is stored, and how much may gather before it is stored at once. */
export const LOG_FLUSH_MS = 200
export const LOG_FLUSH_BYTES = 64 * 1024

/**
 * An attempt's output on its way into the store as numbered chunks: batched (every LOG_FLUSH_MS, or at
 * LOG_FLUSH_BYTES), written one at a time in order. A chunk whose write failed is sent again with the same
 * number at the next flush (the store keeps one copy), so a database blip loses no line and reorders none.
 */
export class LogStream {
  private buffer = ''
  private bytes = 0
  private unsent: LogChunk | null = null
  private writing: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private write: (chunk: LogChunk) => Promise<void>,
    private seq: number,
  ) {}

  push(text: string): void {
    if (text === '') return
    this.buffer += text
    this.bytes += Buffer.byteLength(text)
    if (this.bytes >= LOG_FLUSH_BYTES) void this.flush()
    else this.timer ??= setTimeout(() => void this.flush(), LOG_FLUSH_MS)
  }

  /** Stores what is buffered; resolves once every chunk so far has been written (or has failed to be). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.writing = this.writing.then(async () => {
      if (!this.unsent && this.buffer !== '') {
        this.unsent = { seq: ++this.seq, text: this.buffer }
        this.buffer = ''
        this.bytes = 0
      }
      if (!this.unsent) return
      try {
        await this.write(this.unsent)
        this.unsent = null
      } catch {
        // Kept for the next flush, under the same number.
        this.timer ??= setTimeout(() => void this.flush(), LOG_FLUSH_MS)
      }
    })
    return this.writing
  }

  /** Flushes until nothing is left or `tries` writes have failed. */
  async close(tries = 5): Promise<void> {
    for (let i = 0; i < tries; i++) {
      await this.flush()
      if (!this.unsent && this.buffer === '') break
      await new Promise((r) => setTimeout(r, LOG_FLUSH_MS))
    }
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }
}
