// graphile-worker 0.17 peer for the scheduler benchmark. The worker pool
// runs in this process against its own fresh database (forge_bench_gw).
import pg from 'pg'
import { Logger, run, type Runner, type RunnerOptions, type TaskList } from 'graphile-worker'
import { chainResult, createCounter, deferred, fanoutResult, freshDatabase, withTimeout, type ChainResult, type FanoutResult } from './common.ts'

const DB_NAME = 'forge_bench_gw'
const TIMEOUT_MS = 120_000

/**
 * Tuning for a 2-core box with no-op tasks:
 * - concurrency 10: handlers are pure DB round-trips, so ~10 in flight hides
 *   round-trip latency; going higher mostly adds contention on the jobs table
 *   and the join counter row while both cores are already busy.
 * - pool max concurrency + 4: handlers use the same pool (addJob,
 *   withPgClient) besides the per-worker get/complete queries; the docs
 *   recommend at least concurrency + 2.
 * - pollInterval 500 ms: pickup is driven by LISTEN/NOTIFY (always on), so
 *   polling is only the fallback; 500 ms matches pg-boss's minimum.
 * - localQueue (batch fetch, 0.17 feature) and completeJobBatchDelay 0
 *   (batch completions): the documented throughput knobs for fast jobs.
 *   localQueue.size = concurrency + 1 as the docs suggest.
 * - quiet logger: the default logs one line per job, which would measure
 *   console I/O, not scheduling.
 */
const CONCURRENCY = 10
function options(pgPool: pg.Pool, taskList: TaskList): RunnerOptions {
  return {
    pgPool,
    concurrency: CONCURRENCY,
    pollInterval: 500,
    noHandleSignals: true,
    logger: quietLogger,
    taskList,
    preset: {
      worker: {
        localQueue: { size: CONCURRENCY + 1 },
        completeJobBatchDelay: 0,
      },
    },
  }
}

const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`[graphile-worker] ${message}`)
})

/**
 * Run `body` with a worker pool, then stop it and end the pg pool. We own
 * the pool (rather than passing connectionString) so we can await its end:
 * otherwise idle clients can outlive runner.stop() and get killed by the
 * next repetition's DROP DATABASE ... WITH (FORCE).
 */
async function withRunner<T>(connectionString: string, taskList: TaskList, body: (runner: Runner) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString, max: CONCURRENCY + 4 })
  // Error handlers on the pool and on each client, as graphile-worker asks
  // for when handed a pool (a dropped connection must not crash the bench).
  const onError = (err: Error) => console.error(`[graphile-worker] pool: ${err.message}`)
  pool.on('error', onError)
  pool.on('connect', (client) => client.on('error', onError))
  try {
    const runner = await run(options(pool, taskList)) // also installs the schema
    try {
      return await body(runner)
    } finally {
      await runner.stop()
      await runner.promise.catch(() => undefined)
    }
  } finally {
    await pool.end()
  }
}

/** root -> n leaves -> join; the leaf that brings the counter to n adds the join. */
export async function fanout(n: number, databaseUrl: string): Promise<FanoutResult> {
  const url = await freshDatabase(databaseUrl, DB_NAME)
  await createCounter(url)
  const joined = deferred<number>()
  const taskList: TaskList = {
    root: async (_payload, helpers) => {
      // One multi-row insert, like a scheduler materialising a fan-out.
      await helpers.addJobs(Array.from({ length: n }, () => ({ identifier: 'leaf', payload: {} })))
    },
    leaf: async (_payload, helpers) => {
      // Counter row updated as each leaf completes; exactly one leaf sees n.
      const { rows } = await helpers.withPgClient((c) =>
        c.query<{ done: number }>('UPDATE bench_counter SET done = done + 1 WHERE id = 1 RETURNING done'),
      )
      if (rows[0]!.done === n) await helpers.addJob('join', {})
    },
    join: async () => {
      joined.resolve(performance.now())
    },
  }
  return withRunner(url, taskList, async (runner) => {
    const t0 = performance.now()
    await runner.addJob('root', {})
    const t1 = await withTimeout(joined.promise, TIMEOUT_MS, 'graphile-worker fanout')
    return fanoutResult(n, t0, t1)
  })
}

/** job i enqueues job i+1; edge latency = start(i+1) - end(i). */
export async function chain(n: number, databaseUrl: string): Promise<ChainResult> {
  const url = await freshDatabase(databaseUrl, DB_NAME)
  const starts: number[] = new Array(n)
  const ends: number[] = new Array(n)
  const last = deferred()
  const taskList: TaskList = {
    link: async (payload, helpers) => {
      const i = (payload as { i: number }).i
      starts[i] = performance.now()
      if (i + 1 < n) await helpers.addJob('link', { i: i + 1 })
      ends[i] = performance.now()
      if (i + 1 === n) last.resolve()
    },
  }
  return withRunner(url, taskList, async (runner) => {
    await runner.addJob('link', { i: 0 })
    await withTimeout(last.promise, TIMEOUT_MS, 'graphile-worker chain')
    return chainResult(starts, ends)
  })
}

/**
 * The event→work latency of graphile-worker for `npm run bench -- trigger`: jobs added one after another, each
 * measured from its created_at (now() in add_job's transaction, as the dataset event's timestamp is on the forge
 * side) to the start of its handler. The first `warmup` are not kept.
 */
export async function jobStartLatencies(n: number, warmup: number, databaseUrl: string): Promise<number[]> {
  const url = await freshDatabase(databaseUrl, DB_NAME)
  let started = deferred<number>()
  const taskList: TaskList = {
    probe: async (_payload, helpers) => {
      started.resolve(performance.timeOrigin + performance.now() - helpers.job.created_at.getTime())
    },
  }
  return withRunner(url, taskList, async (runner) => {
    const out: number[] = []
    for (let i = 0; i < warmup + n; i++) {
      started = deferred<number>()
      await runner.addJob('probe', { i })
      const ms = await withTimeout(started.promise, TIMEOUT_MS, 'graphile-worker job start')
      if (i >= warmup) out.push(ms)
    }
    return out
  })
}
