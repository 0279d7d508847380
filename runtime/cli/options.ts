import { ConfigError } from '../errors.ts'

/**
 * Parsers for command-line values, run by commander while it reads the arguments: a bad value stops the command
 * with one line naming the option and the value (exit 2), before any store is opened.
 */

const quoted = (raw: string) => JSON.stringify(raw)

/** A whole number of at least `min`, e.g. `--try` (1) or `--map-index` (0). */
export function wholeNumber(name: string, min: number): (raw: string) => number {
  return (raw) => {
    const n = Number(raw)
    if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min)
      throw new ConfigError(`${name} ${quoted(raw)} must be a whole number >= ${min}`)
    return n
  }
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/

/** An ISO 8601 date or date-time; one without an offset is UTC. Impossible dates (2026-02-30) are refused. */
export function isoDate(name: string): (raw: string) => Date {
  return (raw) => {
    const m = ISO.exec(raw)
    const bad = new ConfigError(`${name} ${quoted(raw)} is not an ISO date (e.g. 2026-01-31 or 2026-01-31T02:00:00Z)`)
    if (!m) throw bad
    const [, y, mo, d, h, mi = '00', s = '00', zone] = m
    // Date.UTC rolls 2026-02-30 over into March: the fields must read back as written.
    const fields = new Date(Date.UTC(+y!, +mo! - 1, +d!, +(h ?? 0), +mi, +s))
    if (fields.getUTCMonth() !== +mo! - 1 || fields.getUTCDate() !== +d! || fields.getUTCHours() !== +(h ?? 0) || fields.getUTCMinutes() !== +mi)
      throw bad
    const date = new Date(h === undefined ? `${raw}T00:00:00Z` : zone ? raw : `${raw}Z`)
    if (Number.isNaN(date.getTime())) throw bad
    return date
  }
}

/** `--conf`: a JSON object (the run's params before the DAG's schema checks them). */
export function confObject(raw: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (err) {
    throw new ConfigError(`--conf ${quoted(raw)} is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`--conf ${quoted(raw)} must be a JSON object, e.g. '{"rows": 10}'`)
  return value as Record<string, unknown>
}

export function poolName(raw: string): string {
  if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(raw)) throw new ConfigError(`pool NAME ${quoted(raw)} is invalid: use letters, digits, _ . - (max 64)`)
  return raw
}

export const poolSlots = (raw: string): number => {
  const n = Number(raw)
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n)) throw new ConfigError(`pool SLOTS ${quoted(raw)} must be a whole number >= 0`)
  return n
}

/** `forge tasks mark --state`: the two states a person may set. */
export function markState(raw: string): 'success' | 'failed' {
  if (raw !== 'success' && raw !== 'failed') throw new ConfigError(`--state ${quoted(raw)} must be success or failed`)
  return raw
}
