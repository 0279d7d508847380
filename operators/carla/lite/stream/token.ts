/**
 * Streaming tokens (streaming/detail/Token.h): 24 packed little-endian bytes. A single-GPU server builds its
 * endpoint from a port alone, so the address is left unset (type 0, 16 zero bytes) and the client falls back to
 * its RPC host. carla-lite does the same, which also keeps tokens valid whatever interface the client dialled.
 */

export const TOKEN_BYTES = 24
const PROTOCOL_TCP = 1
const ADDRESS_UNSET = 0

export function makeToken(streamId: number, port: number): Uint8Array {
  const b = Buffer.alloc(TOKEN_BYTES)
  b.writeUInt32LE(streamId, 0)
  b.writeUInt16LE(port, 4)
  b.writeUInt8(PROTOCOL_TCP, 6)
  b.writeUInt8(ADDRESS_UNSET, 7)
  return new Uint8Array(b.buffer, b.byteOffset, TOKEN_BYTES)
}

export function tokenStreamId(token: Uint8Array): number {
  if (token.length !== TOKEN_BYTES) throw new Error(`a stream token is ${TOKEN_BYTES} bytes, got ${token.length}`)
  return Buffer.from(token.buffer, token.byteOffset, token.length).readUInt32LE(0)
}
