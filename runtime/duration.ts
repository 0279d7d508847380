import { ConfigError } from './errors.ts'

/** A duration as milliseconds or a string like '500ms', '30s', '5m', '2h', '1d' (Temporal's Duration, simplified). */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses a Duration to milliseconds; `what` names the field in the error. */
export function toMs(value: Duration | string, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${what}: ${value} is not a duration (ms >= 0)`)
    return value
  }
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim())
  if (!m) throw new ConfigError(`${what}: "${value}" is not a duration; use e.g. 500ms, 30s, 5m, 2h, 1d`)
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!)
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
}
