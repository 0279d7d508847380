// pg-boss 10 peer for the scheduler benchmark. Workers run in this process
// against their own fresh database (forge_bench_pgboss).
import PgBoss from 'pg-boss'
import { chainResult, createCounter, deferred, fanoutResult, freshDatabase, withTimeout, type ChainResult, type FanoutResult } from './common.ts'

const DB_NAME = 'forge_bench_pgboss'

/**
 * Tuning for a 2-core box with no-op tasks. pg-boss 10 has no LISTEN/NOTIFY
 * and no teamSize/localConcurrency: each work() call is one polling loop
 * that fetches up to batchSize jobs, runs the handler on the array, then
 * sleeps until pollingInterval has elapsed since the fetch began -- even
 * when it found work. So the knobs are:
 * - pollingIntervalSeconds 0.5: the minimum pg-boss accepts (default 2).
 * - WORKERS_PER_QUEUE 10: the same concurrency as graphile-worker's pool
 *   (10), as ten work() loops per queue, started staggered by 50 ms so an
 *   idle queue is polled every ~50 ms (started together they'd poll in
 *   lockstep, i.e. every 500 ms). Idle cost ~20 cheap queries/s per queue,
 *   fine on this box; fewer loops trade latency linearly (2 -> ~250 ms/edge).
 * - batchSize 100: with a 0.5 s floor per loop iteration, throughput is
 *   bounded by loops * batchSize / 0.5 s, so batching is the way to go
 *   fast; 100 keeps one batch well under N (batchSize 10: ~200 tasks/s).
 *   Note 10 loops x 100 = 1000 jobs claimed per interval, so at the default
 *   N = 1000 the whole fan-out is claimed in one polling round; at larger N
 *   the per-interval cap (2000/s) and the per-job counter bump show.
 * - supervise/schedule off: no maintenance or cron timers in a short run
 *   on a fresh database (they'd only add noise).
 */
const WORKERS_PER_QUEUE = 10
const POLL_MS = 500
const WORK_OPTIONS: PgBoss.WorkOptions = { pollingIntervalSeconds: POLL_MS / 1000, batchSize: 100 }

async function startBoss(databaseUrl: string, queues: string[]): Promise<PgBoss> {
  const url = await freshDatabase(databaseUrl, DB_NAME)
  await createCounter(url)
  const boss = new PgBoss({
    connectionString: url,
    max: WORKERS_PER_QUEUE + 4, // same pool size as the graphile-worker peer
    supervise: false,
    schedule: false,
    pollingIntervalSeconds: 0.5,
  })
  boss.on('error', (err) => console.error(`[pg-boss] ${err.message}`))
  await boss.start() // installs the pgboss schema
  for (const q of queues) await boss.createQueue(q) // v10 requires explicit queues
  return boss
}

async function work(boss: PgBoss, queue: string, handler: PgBoss.WorkHandler<unknown>): Promise<void> {
  for (let w = 0; w < WORKERS_PER_QUEUE; w++) {
    // Stagger the loops evenly across one polling interval; started together
    // they'd poll in lockstep and behave like a single loop.
    if (w > 0) await new Promise((r) => setTimeout(r, POLL_MS / WORKERS_PER_QUEUE))
    await boss.work(queue, WORK_OPTIONS, handler)
  }
}

async function stopBoss(boss: PgBoss): Promise<void> {
  // graceful + wait: let the un-awaited completions of the last batch land,
  // then close the pool so the process can exit.
  await boss.stop({ graceful: true, wait: true, timeout: 5000 })
}

/** root -> n leaves -> join; the leaf that brings the counter to n sends the join. */
export async function fanout(n: number, databaseUrl: string): Promise<FanoutResult> {
  const boss = await startBoss(databaseUrl, ['root', 'leaf', 'join'])
  const joined = deferred<number>()
  try {
    await work(boss, 'root', async () => {
      // One multi-row insert, like a scheduler materialising a fan-out.
      await boss.insert(Array.from({ length: n }, () => ({ name: 'leaf' })))
    })
    await work(boss, 'leaf', async (jobs) => {
      // One counter bump per job, as in the graphile-worker peer, so both
      // pay the same join bookkeeping per task.
      for (let j = 0; j < jobs.length; j++) {
        const { rows } = await boss.getDb().executeSql('UPDATE bench_counter SET done = done + 1 WHERE id = 1 RETURNING done', [])
        if (rows[0].done === n) await boss.send('join', {})
      }
    })
    await work(boss, 'join', async () => {
      joined.resolve(performance.now())
    })
    const t0 = performance.now()
    await boss.send('root', {})
    const t1 = await withTimeout(joined.promise, 60_000 + n * 100, 'pg-boss fanout')
    return fanoutResult(n, t0, t1)
  } finally {
    await stopBoss(boss)
  }
}

/** job i sends job i+1; edge latency = start(i+1) - end(i). */
export async function chain(n: number, databaseUrl: string): Promise<ChainResult> {
  const boss = await startBoss(databaseUrl, ['link'])
  const starts: number[] = new Array(n)
  const ends: number[] = new Array(n)
  const last = deferred()
  try {
    await work(boss, 'link', async (jobs) => {
      for (const job of jobs) {
        const i = (job.data as { i: number }).i
        starts[i] = performance.now()
        if (i + 1 < n) await boss.send('link', { i: i + 1 })
        ends[i] = performance.now()
        if (i + 1 === n) last.resolve()
      }
    })
    await boss.send('link', { i: 0 })
    // Polling bounds each edge by ~0.5 s, so allow ~1 s per link.
    await withTimeout(last.promise, 60_000 + n * 1000, 'pg-boss chain')
    return chainResult(starts, ends)
  } finally {
    await stopBoss(boss)
  }
}
