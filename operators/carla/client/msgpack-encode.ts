/**
 * A small msgpack encoder that lets each value choose its wire type.
 *
 * CARLA's structs are C++ `float` (packed as float32, 0xca) or `double` (float64, 0xcb), and a float field that
 * holds 0 must still go out as 0xca: generic encoders pick int for integral numbers and float64 for the rest, which
 * rpclib rejects or misreads. So callers wrap floats in `f32()` / `f64()`; plain numbers are integers.
 */

export class F32 {
  constructor(readonly value: number) {}
}
export class F64 {
  constructor(readonly value: number) {}
}
export const f32 = (v: number): F32 => new F32(v)
export const f64 = (v: number): F64 => new F64(v)

/** Anything the encoder accepts. Uint8Array goes out as bin; bigint as int64/uint64. */
export type Wire = null | boolean | number | bigint | string | Uint8Array | F32 | F64 | readonly Wire[]

/** Growable output buffer; one instance per message, so no shared state between calls. */
class Out {
  buf = Buffer.allocUnsafe(256)
  len = 0
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }
  u8(v: number): void {
    this.ensure(1)
    this.buf[this.len++] = v
  }
}

export function encode(value: Wire): Buffer {
  const out = new Out()
  write(out, value)
  return out.buf.subarray(0, out.len)
}

function write(o: Out, v: Wire): void {
  if (v === null) return o.u8(0xc0)
  if (v === true) return o.u8(0xc3)
  if (v === false) return o.u8(0xc2)
  if (typeof v === 'number') return writeInt(o, v)
  if (typeof v === 'bigint') return writeBigInt(o, v)
  if (typeof v === 'string') return writeStr(o, v)
  if (v instanceof F32) {
    o.ensure(5)
    o.buf[o.len] = 0xca
    o.buf.writeFloatBE(v.value, o.len + 1)
    o.len += 5
    return
  }
  if (v instanceof F64) {
    o.ensure(9)
    o.buf[o.len] = 0xcb
    o.buf.writeDoubleBE(v.value, o.len + 1)
    o.len += 9
    return
  }
  if (v instanceof Uint8Array) return writeBin(o, v)
  if (Array.isArray(v)) {
    writeHeader(o, v.length, 0x90, 15, 0xdc, 0xdd)
    for (const item of v) write(o, item)
    return
  }
  throw new TypeError(`msgpack encode: unsupported value ${String(v)}`)
}

function writeInt(o: Out, v: number): void {
  // A non-integral plain number is a caller bug (it should have said f32 or f64); refuse rather than guess.
  if (!Number.isSafeInteger(v)) throw new TypeError(`msgpack encode: ${v} is not a safe integer; wrap floats in f32()/f64()`)
  o.ensure(9)
  const b = o.buf
  let p = o.len
  if (v >= 0) {
    if (v < 0x80) b[p++] = v
    else if (v < 0x100) ((b[p++] = 0xcc), (b[p++] = v))
    else if (v < 0x10000) ((b[p++] = 0xcd), b.writeUInt16BE(v, p), (p += 2))
    else if (v < 0x100000000) ((b[p++] = 0xce), b.writeUInt32BE(v, p), (p += 4))
    else ((b[p++] = 0xcf), b.writeBigUInt64BE(BigInt(v), p), (p += 8))
  } else {
    if (v >= -32) b[p++] = v & 0xff
    else if (v >= -0x80) ((b[p++] = 0xd0), b.writeInt8(v, p), (p += 1))
    else if (v >= -0x8000) ((b[p++] = 0xd1), b.writeInt16BE(v, p), (p += 2))
    else if (v >= -0x80000000) ((b[p++] = 0xd2), b.writeInt32BE(v, p), (p += 4))
    else ((b[p++] = 0xd3), b.writeBigInt64BE(BigInt(v), p), (p += 8))
  }
  o.len = p
}

function writeBigInt(o: Out, v: bigint): void {
  if (v >= -(2n ** 53n) && v <= 2n ** 53n) return writeInt(o, Number(v))
  o.ensure(9)
  if (v >= 0n) ((o.buf[o.len] = 0xcf), o.buf.writeBigUInt64BE(v, o.len + 1))
  else ((o.buf[o.len] = 0xd3), o.buf.writeBigInt64BE(v, o.len + 1))
  o.len += 9
}

function writeStr(o: Out, s: string): void {
  const n = Buffer.byteLength(s, 'utf8')
  writeHeader(o, n, 0xa0, 31, 0xda, 0xdb, 0xd9)
  o.ensure(n)
  o.buf.write(s, o.len, 'utf8')
  o.len += n
}

function writeBin(o: Out, u: Uint8Array): void {
  const n = u.length
  o.ensure(5 + n)
  if (n < 0x100) ((o.buf[o.len++] = 0xc4), (o.buf[o.len++] = n))
  else if (n < 0x10000) ((o.buf[o.len++] = 0xc5), o.buf.writeUInt16BE(n, o.len), (o.len += 2))
  else ((o.buf[o.len++] = 0xc6), o.buf.writeUInt32BE(n, o.len), (o.len += 4))
  o.buf.set(u, o.len)
  o.len += n
}

/** Fix-size / 16-bit / 32-bit length headers shared by str and array (str also has an 8-bit form). */
function writeHeader(o: Out, n: number, fix: number, fixMax: number, h16: number, h32: number, h8?: number): void {
  o.ensure(5)
  if (n <= fixMax) o.buf[o.len++] = fix | n
  else if (h8 !== undefined && n < 0x100) ((o.buf[o.len++] = h8), (o.buf[o.len++] = n))
  else if (n < 0x10000) ((o.buf[o.len++] = h16), o.buf.writeUInt16BE(n, o.len), (o.len += 2))
  else ((o.buf[o.len++] = h32), o.buf.writeUInt32BE(n, o.len), (o.len += 4))
}
