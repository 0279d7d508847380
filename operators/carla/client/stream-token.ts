/**
 * The 24-byte streaming token (`streaming/detail/Token.h`), packed little-endian:
 * stream_id u32 | port u16 | protocol u8 | address_type u8 | address 16 bytes.
 */
import { CarlaProtocolError } from './errors.ts'

export interface StreamToken {
  streamId: number
  port: number
  /** 0 unset, 1 tcp, 2 udp */
  protocol: number
  /** 0 unset, 1 v4, 2 v6 */
  addressType: number
  /** Dotted or colon form; null when the token carries no address (single-GPU servers). */
  address: string | null
}

export function parseStreamToken(bytes: Uint8Array): StreamToken {
  if (bytes.length !== 24) throw new CarlaProtocolError(`stream token: expected 24 bytes, got ${bytes.length}`)
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const addressType = b[7]!
  return {
    streamId: b.readUInt32LE(0),
    port: b.readUInt16LE(4),
    protocol: b[6]!,
    addressType,
    address: addressType === 1 ? [...b.subarray(8, 12)].join('.') : addressType === 2 ? v6(b.subarray(8, 24)) : null,
  }
}

export function formatStreamToken(t: Omit<StreamToken, 'address'> & { address?: Uint8Array }): Buffer {
  const b = Buffer.alloc(24)
  b.writeUInt32LE(t.streamId, 0)
  b.writeUInt16LE(t.port, 4)
  b[6] = t.protocol
  b[7] = t.addressType
  if (t.address) b.set(t.address.subarray(0, 16), 8)
  return b
}

function v6(b: Buffer): string {
  const parts: string[] = []
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16))
  return parts.join(':')
}

/**
 * Where to connect: a token without an address means "the host you reached the RPC port on" (LibCarla's
 * low_level Client does the same).
 */
export function streamEndpoint(token: StreamToken, rpcHost: string): { host: string; port: number } {
  const host = token.address && token.address !== '0.0.0.0' ? token.address : rpcHost
  return { host, port: token.port }
}
