/** A scripted loopback peer for byte-level tests: records what the client sends, answers with given bytes. */
import net from 'node:net'

export interface WirePeer {
  port: number
  received: Buffer[]
  /** Bytes received so far, concatenated. */
  bytes(): Buffer
  close(): Promise<void>
  sockets: net.Socket[]
}

export async function wirePeer(onData: (chunk: Buffer, socket: net.Socket, peer: WirePeer) => void = () => {}): Promise<WirePeer> {
  const sockets: net.Socket[] = []
  const peer: WirePeer = {
    port: 0,
    received: [],
    sockets,
    bytes: () => Buffer.concat(peer.received),
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
  const server = net.createServer((s) => {
    sockets.push(s)
    s.on('error', () => {})
    s.on('data', (c: Buffer) => {
      peer.received.push(c)
      onData(c, s, peer)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  peer.port = (server.address() as net.AddressInfo).port
  return peer
}
