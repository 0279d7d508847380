/**
 * A msgpack-rpc server over TCP with rpclib's behaviour, shared by the CARLA RPC port and the Traffic Manager port.
 *
 * rpclib frames nothing: requests are back-to-back msgpack objects `[0, msgid, method, params]` and replies are
 * `[1, msgid, error, result]`. Its dispatcher looks methods up by name, checks the argument count, and (CARLA calls
 * `suppress_exceptions(true)`) turns a throwing handler into an error string instead of dying. We copy its wording
 * so clients that match on it behave the same. A handler error must never take the server down.
 */
import net from 'node:net'
import { decodeMultiStream } from '@msgpack/msgpack'
import { encodeWire, type Wire } from './msgpack-wire.ts'

export interface RpcMethod {
  /** Exact parameter count, as rpclib enforces it (CARLA's metadata argument included). */
  arity: number
  run(params: unknown[]): Wire | Promise<Wire>
}

export interface RpcServer {
  port: number
  /** Graceful: stop listening, end connections after pending replies. */
  close(): Promise<void>
  /** Abrupt: destroy every socket without a goodbye, as a crashed server would. */
  kill(): void
}

export interface RpcServerOptions {
  host: string
  port: number
  name: string
  methods: ReadonlyMap<string, RpcMethod>
  log: (msg: string) => void
}

export function notFoundMessage(name: string, argc: number): string {
  return `rpclib: server could not find function '${name}' with argument count ${argc}.`
}

export function threwMessage(name: string, argc: number, what: string): string {
  return `rpclib: function '${name}' (called with ${argc} arg(s)) threw an exception. The exception contained this information: ${what}.`
}

export function arityMessage(name: string, expected: number, got: number): string {
  return `Function '${name}' was called with an invalid number of arguments. Expected: ${expected}, got: ${got}`
}

export async function listenRpc(opts: RpcServerOptions): Promise<RpcServer> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('close', () => sockets.delete(socket))
    // A client resetting the connection is routine (crashed client, test teardown): log, never throw.
    socket.on('error', (err) => opts.log(`${opts.name}: client socket error: ${err.message}`))
    void serveConnection(socket, opts)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (err) => opts.log(`${opts.name}: server error: ${err.message}`))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.end()
        // end() lets queued replies flush; destroy stragglers so close() cannot hang on a silent peer.
        const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), 500)
        server.close(() => {
          clearTimeout(timer)
          resolve()
        })
      }),
    kill: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

async function serveConnection(socket: net.Socket, opts: RpcServerOptions): Promise<void> {
  // Replies go out in request order, as rpclib's per-session strand does; handlers may still be async.
  let chain: Promise<void> = Promise.resolve()
  try {
    for await (const msg of decodeMultiStream<undefined>(socket, { useBigInt64: true })) {
      const reply = handle(msg, opts)
      chain = chain.then(async () => {
        const bytes = await reply
        if (bytes && !socket.destroyed) socket.write(bytes)
      })
    }
  } catch (err) {
    // Garbage on the wire: rpclib drops the session. So do we.
    opts.log(`${opts.name}: closing connection after undecodable input: ${(err as Error).message}`)
    socket.destroy()
  }
}

async function handle(msg: unknown, opts: RpcServerOptions): Promise<Buffer | null> {
  if (!Array.isArray(msg) || (msg[0] !== 0 && msg[0] !== 2)) {
    opts.log(`${opts.name}: ignoring a message that is not a request`)
    return null
  }
  const notification = msg[0] === 2
  const [id, name, params] = notification ? [null, msg[1], msg[2]] : [msg[1], msg[2], msg[3]]
  const args = Array.isArray(params) ? params : []
  const respond = (error: Wire, result: Wire): Buffer | null => (notification ? null : encodeWire([1, id as Wire, error, result]))
  const method = typeof name === 'string' ? opts.methods.get(name) : undefined
  if (!method) return respond(notFoundMessage(String(name), args.length), null)
  if (args.length !== method.arity) {
    return respond(threwMessage(name as string, args.length, arityMessage(name as string, method.arity, args.length)), null)
  }
  try {
    return respond(null, await method.run(args))
  } catch (err) {
    opts.log(`${opts.name}: ${String(name)} failed: ${(err as Error)?.message ?? String(err)}`)
    return respond(threwMessage(name as string, args.length, (err as Error)?.message ?? String(err)), null)
  }
}
