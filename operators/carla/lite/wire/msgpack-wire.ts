/**
 * msgpack encoding for carla-lite's replies, on top of @msgpack/msgpack.
 *
 * CARLA packs C++ `float` as float32 (0xca) and `double` as float64 (0xcb), even when the value is integral
 * (a fov of 90.0 is `ca 42 b4 00 00`, never the int `5a`). @msgpack/msgpack only has global switches
 * (forceFloat32 / forceIntegerToFloat), so a message that mixes ints, floats and doubles needs per-value
 * marking: callers wrap values in `f32()` / `f64()`, and one Encoder instance is taught to write those wrappers
 * natively. Plain JS numbers are integers (smallest form), Uint8Array is bin, arrays are positional arrays.
 */
import { Encoder } from '@msgpack/msgpack'

export class F32 {
  constructor(readonly value: number) {}
}
export class F64 {
  constructor(readonly value: number) {}
}
export const f32 = (v: number): F32 => new F32(v)
export const f64 = (v: number): F64 => new F64(v)

/** What a reply may contain. */
export type Wire = null | boolean | number | bigint | string | Uint8Array | F32 | F64 | readonly Wire[]

interface EncoderInternals {
  encodeObject(object: unknown, depth: number): void
  writeU8(v: number): void
  writeF32(v: number): void
  writeF64(v: number): void
}

function makeEncoder(): Encoder {
  const encoder = new Encoder({ useBigInt64: true })
  // The hook point is encodeObject, which @msgpack/msgpack 3.x calls for every non-primitive. It is private in
  // the typings, so the patch is checked at load time below: a library change fails loudly, not on the wire.
  const internals = encoder as unknown as EncoderInternals
  const base = internals.encodeObject.bind(encoder)
  internals.encodeObject = (object: unknown, depth: number): void => {
    if (object instanceof F32) {
      internals.writeU8(0xca)
      internals.writeF32(object.value)
    } else if (object instanceof F64) {
      internals.writeU8(0xcb)
      internals.writeF64(object.value)
    } else {
      base(object, depth)
    }
  }
  return encoder
}

const encoder = makeEncoder()

/** Encodes one msgpack object into a fresh Buffer (safe to hand to a socket). */
export function encodeWire(value: Wire): Buffer {
  const bytes = encoder.encode(value)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

// Self-check of the patch: [f32(90), f64(0.5), 3] must be 93 ca 42 b4 00 00 cb 3f e0 00.. 03.
const probe = encodeWire([f32(90), f64(0.5), 3]).toString('hex')
if (probe !== '93ca42b40000cb3fe000000000000003') {
  throw new Error(`carla-lite: @msgpack/msgpack internals changed, float32 marking broken (${probe})`)
}

/** Coerces a decoded msgpack integer (number or bigint) to a JS number. */
export function toNum(v: unknown, what: string): number {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  throw new TypeError(`${what}: expected a number, got ${describe(v)}`)
}

export function toBool(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v
  throw new TypeError(`${what}: expected a bool, got ${describe(v)}`)
}

export function toStr(v: unknown, what: string): string {
  if (typeof v === 'string') return v
  throw new TypeError(`${what}: expected a string, got ${describe(v)}`)
}

export function toArr(v: unknown, what: string, minLength = 0): unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${what}: expected an array, got ${describe(v)}`)
  if (v.length < minLength) throw new TypeError(`${what}: expected at least ${minLength} elements, got ${v.length}`)
  return v
}

function describe(v: unknown): string {
  if (v === null) return 'nil'
  if (Array.isArray(v)) return `array(${v.length})`
  if (v instanceof Uint8Array) return `bin(${v.length})`
  return typeof v
}
