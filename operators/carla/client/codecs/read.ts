/**
 * Checked readers for decoded msgpack values. A struct that arrives with the wrong shape fails with the struct's
 * name and the field's position, which is what you need when a server build differs from docs/carla-protocol.md.
 */
import { CarlaProtocolError } from '../errors.ts'

export function arr(v: unknown, what: string, minLen = 0): unknown[] {
  if (!Array.isArray(v) || v.length < minLen) {
    throw new CarlaProtocolError(`${what}: expected an array of at least ${minLen} elements, got ${show(v)}`)
  }
  return v
}

export function num(v: unknown, what: string): number {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  throw new CarlaProtocolError(`${what}: expected a number, got ${show(v)}`)
}

export function u64(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  throw new CarlaProtocolError(`${what}: expected an integer, got ${show(v)}`)
}

export function str(v: unknown, what: string): string {
  if (typeof v === 'string') return v
  throw new CarlaProtocolError(`${what}: expected a string, got ${show(v)}`)
}

export function bool(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v
  throw new CarlaProtocolError(`${what}: expected a bool, got ${show(v)}`)
}

/** `vector<unsigned char>` is bin on the wire; the decoder hands us a Uint8Array view. */
export function bin(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v
  throw new CarlaProtocolError(`${what}: expected bin bytes, got ${show(v)}`)
}

export function show(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<bin ${x.length}>` : x))
    return s === undefined ? String(v) : s.length > 200 ? `${s.slice(0, 200)}…` : s
  } catch {
    return String(v)
  }
}
