/**
 * Test-side clients written straight on @msgpack/msgpack and node:net, independent of both carla-lite's and the
 * product client's code, so the tests check carla-lite against the protocol reference rather than against itself.
 */
import net from 'node:net'
import { decodeMultiStream, encode } from '@msgpack/msgpack'

export class RawRpc {
  private nextId = 1
  private readonly waiting = new Map<number, (reply: [unknown, unknown]) => void>()
  private constructor(readonly socket: net.Socket) {
    void (async () => {
      try {
        for await (const msg of decodeMultiStream<undefined>(socket, { useBigInt64: true })) {
          const [, id, error, result] = msg as [number, number, unknown, unknown]
          this.waiting.get(id)?.([error, result])
          this.waiting.delete(id)
        }
      } catch {
        // socket torn down by the test
      }
    })()
  }

  static connect(port: number): Promise<RawRpc> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawRpc(s)))
      s.once('error', reject)
    })
  }

  /** Sends `[0, id, method, params]` and resolves `[error, result]`. */
  call(method: string, params: unknown[]): Promise<[unknown, unknown]> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no reply in 5 s`)), 5000)
      this.waiting.set(id, (r) => {
        clearTimeout(timer)
        resolve(r)
      })
      this.socket.write(encode([0, id, method, params]))
    })
  }

  /** A CARLA call with the `[false]` metadata; returns the raw result (envelope included). */
  carla(method: string, ...args: unknown[]): Promise<unknown> {
    return this.call(method, [[false], ...args]).then(([err, result]) => {
      if (err !== null) throw new Error(`rpc error: ${String(err)}`)
      return result
    })
  }

  /** Unwraps a Response<T> success `[[1, v]]`, failing the test on `[[0, [msg]]]`. */
  async value<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    const r = (await this.carla(method, ...args)) as [[number, unknown]]
    if (r[0][0] !== 1) throw new Error(`${method} failed: ${JSON.stringify(r)}`)
    return r[0][1] as T
  }

  close(): void {
    this.socket.destroy()
  }
}

/** Sends exact bytes and collects exactly `n` reply bytes. */
export function rawExchange(port: number, request: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(request))
    let got = Buffer.alloc(0)
    const timer = setTimeout(() => {
      s.destroy()
      reject(new Error(`only ${got.length} of ${n} bytes`))
    }, 5000)
    s.on('data', (d) => {
      got = Buffer.concat([got, d])
      if (got.length >= n) {
        clearTimeout(timer)
        s.destroy()
        resolve(got)
      }
    })
    s.on('error', reject)
  })
}

/** Sends exact request bytes on a fresh connection and decodes the first reply object. */
export async function rawRequest(port: number, request: Buffer): Promise<unknown> {
  const s = net.connect({ host: '127.0.0.1', port })
  s.write(request)
  try {
    for await (const msg of decodeMultiStream<undefined>(s, { useBigInt64: true })) return msg
    throw new Error('connection closed without a reply')
  } finally {
    s.destroy()
  }
}

/** A stream subscriber: sends the 4-byte stream id, then splits `u32 LE length + payload` messages. */
export class RawStream {
  readonly messages: Buffer[] = []
  ended = false
  private chunks: Buffer[] = []
  private have = 0
  private need = 4
  private wake: (() => void) | null = null
  private constructor(readonly socket: net.Socket) {
    // Chunks are joined only once a whole message is in, so multi-MB images do not cost quadratic copying.
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d)
      this.have += d.length
      while (this.have >= this.need) {
        const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
        if (this.need === 4) {
          this.need = 4 + all.readUInt32LE(0)
          this.chunks = [all]
          continue
        }
        this.messages.push(all.subarray(4, this.need)) // socket chunks are never reused, so no copy
        const rest = all.subarray(this.need)
        this.chunks = rest.length ? [rest] : []
        this.have = rest.length
        this.need = 4
      }
      this.wake?.()
    })
    socket.on('close', () => {
      this.ended = true
      this.wake?.()
    })
    socket.on('error', () => {})
  }

  static connect(port: number, streamId: number): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.setNoDelay(true)
        const id = Buffer.alloc(4)
        id.writeUInt32LE(streamId)
        s.write(id)
        const stream = new RawStream(s)
        // Give the server a moment to register the session before the test ticks.
        setTimeout(() => resolve(stream), 30)
      })
      s.once('error', reject)
    })
  }

  /** Waits for a message whose header frame (u64 at byte 8) is `frame`. */
  async frame(frame: number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = this.messages.find((x) => Number(x.readBigUInt64LE(8)) === frame)
      if (m) return m
      if (this.ended) throw new Error(`stream ended before frame ${frame}`)
      if (Date.now() > deadline) throw new Error(`no message for frame ${frame} (have ${this.messages.map((x) => x.readBigUInt64LE(8)).join(',')})`)
      await new Promise<void>((r) => {
        this.wake = r
        setTimeout(r, 50)
      })
    }
  }

  close(): void {
    this.socket.destroy()
  }
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
