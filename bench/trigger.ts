// `npm run bench -- trigger [--n N] [--warmup W]` (needs FORGE_DATABASE_URL): how soon a dataset event starts the
// DAG scheduled on it. A producer DAG records a new version of `bench://trigger` per run, N runs one after another
// (each once the previous consumer run has finished), through the real scheduler and thread executor on Postgres,
// with the default poll interval. Per event: from the event (its row's timestamp, Postgres's now() in the
// transaction that commits it) to the consumer run's commit (its NOTIFY 'run:ID' as a listener thread hears it,
// peers/notify-clock.ts) and to the start of the consumer's first task. Beside it, in the same run: graphile-worker
// 0.17.3, from a job's created_at (now() in add_job's transaction) to the start of its handler.
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../runtime/config.ts'
import { LocalExecutor } from '../runtime/executors/local/local-executor.ts'
import { Scheduler } from '../runtime/scheduler/scheduler.ts'
import { triggerRun } from '../runtime/store/trigger.ts'
import { openBenchStore } from './forge-store.ts'
import { deferred, percentile, round, withTimeout } from './peers/common.ts'
import { jobStartLatencies } from './peers/graphile-worker.ts'
import { notifyClock } from './peers/notify-clock.ts'
import { intFlag } from './stats.ts'

const DAGS = fileURLToPath(new URL('./dags-trigger/', import.meta.url))
const DB_NAME = 'forge_bench_trigger'
const CONSUMER = 'bench_trigger_consumer'

interface Sample {
  runMs: number
  firstTaskMs: number
}

async function measureForge(databaseUrl: string, n: number, warmup: number): Promise<{ samples: Sample[]; pollIntervalMs: number }> {
  const store = await openBenchStore(databaseUrl, DB_NAME, DAGS)
  const config = loadConfig({ FORGE_DATABASE_URL: databaseUrl }, { dagsFolder: DAGS })
  const url = new URL(databaseUrl)
  url.pathname = `/${DB_NAME}`
  const clock = await notifyClock(url.toString(), 'forge')
  let consumerDone = deferred<string>()
  const scheduler = new Scheduler({
    config,
    store,
    executor: new LocalExecutor({ parallelism: 4, threadWorkers: 1, store, config }),
    onEvent: (e) => {
      if (e.type === 'run:finished' && e.dagId === CONSUMER) consumerDone.resolve(e.runId)
    },
  })
  const loop = scheduler.run()
  const samples: Sample[] = []
  try {
    for (let i = 0; i < warmup + n; i++) {
      const seen = clock.heard.length
      consumerDone = deferred<string>()
      await triggerRun(store.db, 'bench_trigger_producer', { version: `v${i}` })
      const runId = await withTimeout(consumerDone.promise, 60_000, `consumer run for event ${i}`)
      const row = await store.db
        .selectFrom('dag_run as r')
        .innerJoin('xcom as x', 'x.dag_run_id', 'r.id')
        .select(['r.id', 'r.state', 'x.value'])
        .where('r.dag_id', '=', CONSUMER)
        .where('r.run_id', '=', runId)
        .executeTakeFirstOrThrow()
      if (row.state !== 'success') throw new Error(`consumer run ${runId} ended ${row.state}`)
      const event = await store.db
        .selectFrom('dag_run_dataset_event as l')
        .innerJoin('dataset_event as e', 'e.id', 'l.dataset_event_id')
        .select('e.timestamp')
        .where('l.dag_run_id', '=', row.id)
        .executeTakeFirstOrThrow()
      const eventAt = event.timestamp.getTime()
      const createdAt = await clock.first((payload) => payload === `run:${row.id}`, seen)
      if (i >= warmup) samples.push({ runMs: createdAt - eventAt, firstTaskMs: Number(row.value) - eventAt })
    }
  } finally {
    scheduler.stop()
    await loop
    await clock.close()
    await store.close()
  }
  return { samples, pollIntervalMs: config.pollIntervalMs }
}

const p = (xs: number[], q: number): number => round(percentile(xs, q), 2)

export async function run(args: string[]): Promise<{ line: string; json: Record<string, unknown> }> {
  const databaseUrl = process.env.FORGE_DATABASE_URL
  if (!databaseUrl) throw new Error('set FORGE_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test')
  const n = intFlag(args, '--n', 50)
  const warmup = intFlag(args, '--warmup', 3)
  const { samples, pollIntervalMs } = await measureForge(databaseUrl, n, warmup)
  const gw = await jobStartLatencies(n, warmup, databaseUrl)
  const runMs = samples.map((s) => s.runMs)
  const taskMs = samples.map((s) => s.firstTaskMs)
  const forge = {
    run: { p50: p(runMs, 50), p99: p(runMs, 99), max: p(runMs, 100) },
    firstTask: { p50: p(taskMs, 50), p99: p(taskMs, 99), max: p(taskMs, 100) },
    samples: samples.map((s) => ({ runMs: round(s.runMs, 2), firstTaskMs: round(s.firstTaskMs, 2) })),
  }
  const peer = { jobStart: { p50: p(gw, 50), p99: p(gw, 99), max: p(gw, 100) }, samples: gw.map((x) => round(x, 2)) }
  const line =
    `trigger: dataset event → consumer run p50 ${forge.run.p50} ms (p99 ${forge.run.p99}), ` +
    `first task p50 ${forge.firstTask.p50} ms (p99 ${forge.firstTask.p99}) ` +
    `(graphile-worker job start p50 ${peer.jobStart.p50} ms, p99 ${peer.jobStart.p99})`
  return { line, json: { params: { n, warmup, pollIntervalMs }, forge, peers: { 'graphile-worker': peer } } }
}
