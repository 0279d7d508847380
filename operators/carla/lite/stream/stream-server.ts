/**
 * The streaming port (RPC port + 1). A client connects, writes the 4-byte little-endian stream id, then reads
 * `u32 LE length + payload` messages forever (streaming/detail/tcp/ServerSession.cpp, Message.h).
 *
 * Back-pressure follows ServerSession::Write: in synchronous mode the server waits for a session's previous write
 * before writing the next message (a slow reader stalls the simulation, exactly like CARLA); in asynchronous mode a
 * session that is still busy simply misses the message.
 */
import net from 'node:net'

interface Session {
  socket: net.Socket
  streamId: number
  /** Settles when the last write to this session has been handed to the kernel (or failed). */
  inflight: Promise<void> | null
}

export interface StreamServerOptions {
  host: string
  port: number
  /** Whether a stream id may be subscribed to now; unknown ids are refused as CARLA's dispatcher does. */
  isOpen(streamId: number): boolean
  log: (msg: string) => void
}

export class StreamServer {
  private readonly sessions = new Map<number, Set<Session>>()
  private readonly sockets = new Set<net.Socket>()

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly opts: StreamServerOptions,
  ) {}

  static async listen(opts: StreamServerOptions): Promise<StreamServer> {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const self = new StreamServer(server, (server.address() as net.AddressInfo).port, opts)
    server.on('connection', (s) => self.accept(s))
    server.on('error', (err) => opts.log(`stream server error: ${err.message}`))
    return self
  }

  hasSubscribers(streamId: number): boolean {
    return (this.sessions.get(streamId)?.size ?? 0) > 0
  }

  /** In async mode a message for this stream would be dropped by every session (all still busy). */
  allBusy(streamId: number): boolean {
    for (const s of this.sessions.get(streamId) ?? []) if (!s.inflight) return false
    return true
  }

  /**
   * Sends one framed message (`msg` already holds the u32 length prefix) to every subscriber of the stream.
   * `release` runs once no socket holds `msg` any more, so the caller may reuse the buffer.
   * Resolves once every write has been issued (in sync mode that includes waiting for earlier writes).
   */
  async publish(streamId: number, msg: Buffer, sync: boolean, release?: () => void): Promise<void> {
    const sessions = [...(this.sessions.get(streamId) ?? [])]
    let pending = 1 // held by publish itself until every write is issued
    const done = (): void => {
      if (--pending === 0) release?.()
    }
    // Sessions are independent: one slow reader delays only its own next write (and, in sync mode, the tick).
    await Promise.all(
      sessions.map(async (session) => {
        if (session.inflight) {
          if (!sync) return // async mode: drop for a reader that is still busy
          await session.inflight
        }
        const sock = session.socket
        if (sock.destroyed || sock.writableEnded) return
        pending++
        session.inflight = new Promise<void>((resolve) => {
          sock.write(msg, () => {
            session.inflight = null
            done()
            resolve()
          })
        })
      }),
    )
    done()
  }

  /** Ends every session of a stream (sensor destroyed or episode changed); the client sees EOF. */
  closeStream(streamId: number): void {
    for (const s of this.sessions.get(streamId) ?? []) s.socket.end()
    this.sessions.delete(streamId)
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.end()
    const timer = setTimeout(() => this.sockets.forEach((s) => s.destroy()), 500)
    return new Promise((resolve) =>
      this.server.close(() => {
        clearTimeout(timer)
        resolve()
      }),
    )
  }

  kill(): void {
    for (const s of this.sockets) s.destroy()
    this.server.close()
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', (err) => this.opts.log(`stream session error: ${err.message}`))
    let head = Buffer.alloc(0)
    let session: Session | null = null
    socket.on('data', (chunk: Buffer) => {
      if (session) return // after the id the client has nothing more to say
      head = Buffer.concat([head, chunk])
      if (head.length < 4) return
      const streamId = head.readUInt32LE(0)
      if (!this.opts.isOpen(streamId)) {
        this.opts.log(`refusing session for unknown stream ${streamId}`)
        socket.destroy()
        return
      }
      session = { socket, streamId, inflight: null }
      let set = this.sessions.get(streamId)
      if (!set) this.sessions.set(streamId, (set = new Set()))
      set.add(session)
    })
    socket.on('close', () => {
      this.sockets.delete(socket)
      if (session) this.sessions.get(session.streamId)?.delete(session)
    })
  }
}
