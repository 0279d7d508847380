/**
 * Subscribes to one CARLA stream (docs/carla-protocol.md §4): TCP to the token's port with TCP_NODELAY, send the
 * 4-byte LE stream id, then read length-framed messages. LibCarla reconnects on error; a dataset shard cannot
 * use a stream with holes, so here a lost stream is reported once through `onError` and the caller fails the shard.
 */
import net from 'node:net'
import { StreamFramer } from './stream-framer.ts'
import { parseStreamToken, streamEndpoint } from './stream-token.ts'
import { CarlaConnectionError } from './errors.ts'

export interface StreamOptions {
  /** The RPC host; used when the token carries no address. */
  rpcHost: string
  token: Uint8Array
  /** A label for errors, e.g. 'sensor rgb_front' or 'world observer'. */
  name: string
  onMessage(payload: Buffer): void
  /** Called at most once, when the stream fails or the server closes it; not called after close(). */
  onError(err: Error): void
  connectTimeoutMs?: number
  /** Allocator for message bodies (default Buffer.allocUnsafe); see BufferRecycler. */
  allocate?: (len: number) => Buffer
}

export interface StreamSubscription {
  readonly name: string
  readonly streamId: number
  readonly messages: number
  readonly bytes: number
  close(): void
}

export function subscribeStream(opts: StreamOptions): Promise<StreamSubscription> {
  const token = parseStreamToken(opts.token)
  const { host, port } = streamEndpoint(token, opts.rpcHost)
  const label = `${opts.name} (stream ${token.streamId} at ${host}:${port})`
  return new Promise((resolve, reject) => {
    // onread: the framer hands the kernel the unfilled part of the current message as the read buffer, so a
    // camera frame lands in its final buffer without a copy in JS.
    const framer = new StreamFramer(
      (payload) => {
        sub.messages++
        sub.bytes += payload.length
        opts.onMessage(payload)
      },
      undefined,
      opts.allocate,
    )
    const socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: () => framer.readTarget(),
        callback: (n: number, buf: Uint8Array) => {
          try {
            framer.commit(buf as Buffer, n)
          } catch (err) {
            report(new CarlaConnectionError(`${label}: ${(err as Error).message}`, { cause: err }))
            return false
          }
          return true
        },
      },
    })
    let closedByUs = false
    let reported = false
    let connected = false
    const sub = {
      name: opts.name,
      streamId: token.streamId,
      messages: 0,
      bytes: 0,
      close(): void {
        closedByUs = true
        socket.destroy()
      },
    }
    const report = (err: Error): void => {
      // Before 'connect' the promise's rejection is the report; afterwards onError is.
      if (closedByUs || reported || !connected) return
      reported = true
      socket.destroy()
      opts.onError(err)
    }
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new CarlaConnectionError(`${label}: connect timed out`))
    }, opts.connectTimeoutMs ?? 5000)
    socket.once('connect', () => {
      clearTimeout(timer)
      connected = true
      socket.setNoDelay(true)
      const id = Buffer.alloc(4)
      id.writeUInt32LE(token.streamId, 0)
      socket.write(id)
      resolve(sub)
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(new CarlaConnectionError(`${label}: cannot connect (${err.message})`, { cause: err }))
      report(new CarlaConnectionError(`${label}: ${err.message}`, { cause: err }))
    })
    socket.on('close', () => {
      clearTimeout(timer)
      reject(new CarlaConnectionError(`${label}: closed before connecting`))
      report(new CarlaConnectionError(`${label}: closed by the server after ${sub.messages} messages`))
    })
  })
}
