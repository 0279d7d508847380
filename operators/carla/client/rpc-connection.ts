/**
 * msgpack-rpc over TCP (rpclib's framing: back-to-back msgpack objects, no length prefix).
 *
 * Guarantees the rest of the client relies on: every call settles (reply, per-call timeout, or connection
 * error), a socket error never escapes as an unhandled 'error' event, and once the connection is gone every new
 * call rejects at once.
 */
import net from 'node:net'
import { Decoder } from '@msgpack/msgpack'
import { encode, type Wire } from './msgpack-encode.ts'
import { CarlaConnectionError, CarlaProtocolError, CarlaRpcError, CarlaTimeoutError } from './errors.ts'

export interface RpcConnectOptions {
  host: string
  port: number
  /** Default per-call timeout; CARLA's own client uses 5000 ms. */
  timeoutMs?: number
  connectTimeoutMs?: number
  /** A label for error messages, e.g. 'carla rpc' or 'traffic manager'. */
  name?: string
}

interface Pending {
  method: string
  resolve(v: unknown): void
  reject(e: Error): void
  timer: NodeJS.Timeout
}

export class RpcConnection {
  readonly timeoutMs: number
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private closedError: CarlaConnectionError | null = null

  private constructor(
    private readonly socket: net.Socket,
    private readonly label: string,
    timeoutMs: number,
  ) {
    this.timeoutMs = timeoutMs
    socket.setNoDelay(true)
    socket.on('error', (err) => this.fail(new CarlaConnectionError(`${label}: ${err.message}`, { cause: err })))
    socket.on('close', () => this.fail(new CarlaConnectionError(`${label}: connection closed by the server`)))
    void this.readLoop()
  }

  static connect(opts: RpcConnectOptions): Promise<RpcConnection> {
    const label = `${opts.name ?? 'carla rpc'} ${opts.host}:${opts.port}`
    const connectTimeoutMs = opts.connectTimeoutMs ?? opts.timeoutMs ?? 5000
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new CarlaConnectionError(`${label}: connect timed out after ${connectTimeoutMs} ms`))
      }, connectTimeoutMs)
      const onError = (err: Error): void => {
        clearTimeout(timer)
        socket.destroy()
        reject(new CarlaConnectionError(`${label}: cannot connect (${err.message})`, { cause: err }))
      }
      socket.once('error', onError)
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.off('error', onError)
        resolve(new RpcConnection(socket, label, opts.timeoutMs ?? 5000))
      })
    })
  }

  get closed(): boolean {
    return this.closedError !== null
  }

  /** Sends `[0, msgid, method, params]` and resolves with the raw `result` (envelopes are the caller's job). */
  call(method: string, params: readonly Wire[], timeoutMs = this.timeoutMs): Promise<unknown> {
    if (this.closedError) return Promise.reject(new CarlaConnectionError(`${method}: ${this.closedError.message}`))
    const id = this.nextId
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1
    const bytes = encode([0, id, method, params])
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new CarlaTimeoutError(method, timeoutMs))
      }, timeoutMs)
      this.pending.set(id, { method, resolve, reject, timer })
      this.socket.write(bytes)
    })
  }

  /** Closes the socket; pending calls reject with a 'closed by client' error. */
  close(): void {
    this.fail(new CarlaConnectionError(`${this.label}: connection closed by the client`))
    this.socket.destroy()
  }

  private async readLoop(): Promise<void> {
    // useBigInt64: episode ids are random 64-bit values and must compare exactly.
    const decoder = new Decoder({ useBigInt64: true })
    try {
      for await (const msg of decoder.decodeStream(this.socket)) this.onMessage(msg)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      this.fail(new CarlaConnectionError(`${this.label}: bad data from the server (${message})`, { cause: err }))
      this.socket.destroy()
    }
  }

  private onMessage(msg: unknown): void {
    if (!Array.isArray(msg) || msg[0] !== 1 || msg.length !== 4) {
      // Notifications ([2, …]) are legal msgpack-rpc but CARLA never sends them; anything else is a broken peer.
      if (Array.isArray(msg) && msg[0] === 2) return
      throw new CarlaProtocolError(`expected a response [1, msgid, error, result], got ${JSON.stringify(msg)}`)
    }
    const id = Number(msg[1])
    const p = this.pending.get(id)
    if (!p) return // a reply that arrived after its timeout
    this.pending.delete(id)
    clearTimeout(p.timer)
    const error = msg[2]
    if (error !== null && error !== undefined) p.reject(new CarlaRpcError(p.method, errorText(error)))
    else p.resolve(msg[3])
  }

  private fail(err: CarlaConnectionError): void {
    if (!this.closedError) this.closedError = err
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      this.pending.delete(id)
      p.reject(new CarlaConnectionError(`${p.method}: ${err.message}`, { cause: err }))
    }
  }
}

/** rpclib sends strings; other msgpack-rpc servers send arrays or maps, which we keep readable. */
function errorText(e: unknown): string {
  if (typeof e === 'string') return e
  if (Array.isArray(e) && typeof e[0] === 'string') return e.join(': ')
  try {
    return JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  } catch {
    return String(e)
  }
}
