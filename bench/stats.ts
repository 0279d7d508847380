// Medians for the benchmarks: each result line quotes medians over repetitions, never best runs.

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Field-wise median of a list of same-shaped numeric records. */
export function medianOf<T extends object>(rows: T[]): T {
  const out: Record<string, number> = {}
  for (const key of Object.keys(rows[0]!)) {
    out[key] = median(rows.map((r) => (r as Record<string, number>)[key]!))
  }
  return out as T
}

/** The positive integer after `name` in a benchmark's arguments, or `fallback` when it is absent. */
export function intFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name)
  if (i < 0) return fallback
  const v = Number(args[i + 1])
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer`)
  return v
}
