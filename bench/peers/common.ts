// Helpers shared by the peer benchmarks (graphile-worker, pg-boss).
import pg from 'pg'

export interface FanoutResult {
  tasksPerSec: number
  seconds: number
}
/**
 * totalMs runs from the first link's start to the last link's end, the same span for every peer; msPerLink is
 * totalMs over the links: what a chain of no-op tasks costs per link end to end, whatever work a peer does inside
 * a job (enqueueing its successor) or between jobs (recording a result, claiming the next).
 */
export interface ChainResult {
  p50MsPerEdge: number
  p90MsPerEdge: number
  totalMs: number
  msPerLink: number
}

/**
 * Drop and recreate `dbName` on the server behind `databaseUrl`, returning a
 * URL for the fresh database. Each peer gets its own database so neither
 * sees the other's tables, indexes or dead tuples, and every repetition
 * starts from an empty, freshly-vacuumed state.
 */
export async function freshDatabase(databaseUrl: string, dbName: string): Promise<string> {
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  try {
    // pg.Pool#end() resolves before the server-side backends have gone, so
    // give the previous repetition's connections a moment to disappear
    // rather than killing them (which surfaces as client errors).
    for (let i = 0; i < 40; i++) {
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [dbName])
      if (rows[0].n === 0) break
      await new Promise((r) => setTimeout(r, 50))
    }
    // WITH (FORCE) (PG13+) kicks any straggler left by a crashed run.
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${dbName}`)
  } finally {
    await admin.end()
  }
  const url = new URL(databaseUrl)
  url.pathname = `/${dbName}`
  return url.toString()
}

/** Nearest-rank percentile (p in 0..100) of an unsorted sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

/**
 * Per-edge latencies of a chain: successor's handler start minus
 * predecessor's handler end, both taken with performance.now() in this
 * process (the worker runs in-process, so one monotonic clock suffices).
 */
export function edgeLatencies(starts: number[], ends: number[]): number[] {
  const edges: number[] = []
  for (let i = 1; i < starts.length; i++) edges.push(starts[i]! - ends[i - 1]!)
  return edges
}

export function chainResult(starts: number[], ends: number[]): ChainResult {
  const edges = edgeLatencies(starts, ends)
  const totalMs = ends[ends.length - 1]! - starts[0]!
  return {
    p50MsPerEdge: round(percentile(edges, 50)),
    p90MsPerEdge: round(percentile(edges, 90)),
    totalMs: round(totalMs),
    msPerLink: round(totalMs / starts.length, 3),
  }
}

export function fanoutResult(n: number, t0: number, t1: number): FanoutResult {
  const seconds = (t1 - t0) / 1000
  return { tasksPerSec: round((n + 2) / seconds), seconds: round(seconds, 3) }
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** A promise plus its resolve/reject, for "the join/last link ran" signals. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Reject if `p` hasn't settled within `ms` so a stuck peer can't hang the bench. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

/** The join counter: one row, bumped as each fan-out task completes. */
export async function createCounter(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query('CREATE TABLE bench_counter (id int PRIMARY KEY, done int NOT NULL)')
    await c.query('INSERT INTO bench_counter VALUES (1, 0)')
  } finally {
    await c.end()
  }
}
