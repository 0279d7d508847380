// `npm run bench -- trigger [--n N] [--warmup W]` (needs FORGE_DATABASE_URL): how soon a dataset event starts the
// DAG scheduled on it. A producer DAG records a new version of `bench://trigger` per run, N runs one after another
// (each once the previous consumer run has finished), through the real scheduler and thread executor on Postgres,
// with the default poll interval. Per event: from its commit (the NOTIFY 'dataset' as a listener in this process
// hears it) to the consumer run's commit (its NOTIFY 'run:ID') and to the start of the consumer's first task. Beside
// it, in the same run: graphile-worker 0.17.3, from add_job's commit (its NOTIFY 'jobs:insert') to the job's start.
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../runtime/config.ts'
import { LocalExecutor } from '../runtime/executors/local/local-executor.ts'
import { Scheduler } from '../runtime/scheduler/scheduler.ts'
import { triggerRun } from '../runtime/store/trigger.ts'
import { openBenchStore } from './forge-store.ts'
import { deferred, percentile, round, withTimeout } from './peers/common.ts'
import { jobStartLatencies } from './peers/graphile-worker.ts'
import { intFlag } from './stats.ts'

const DAGS = fileURLToPath(new URL('./dags-trigger/', import.meta.url))
const CONSUMER = 'bench_trigger_consumer'
const now = (): number => performance.timeOrigin + performance.now()

interface Sample {
  runMs: number
  firstTaskMs: number
}

async function measureForge(databaseUrl: string, n: number, warmup: number): Promise<{ samples: Sample[]; pollIntervalMs: number }> {
  const store = await openBenchStore(databaseUrl, 'forge_bench_trigger', DAGS)
  const config = loadConfig({ FORGE_DATABASE_URL: databaseUrl }, { dagsFolder: DAGS })
  const datasetAt: number[] = []
  const runAt = new Map<number, number>()
  const unlisten = await store.listen('forge', (payload) => {
    const t = now()
    if (payload === 'dataset') datasetAt.push(t)
    else if (payload.startsWith('run:')) runAt.set(Number(payload.slice('run:'.length)), t)
  })
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
      const seen = datasetAt.length
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
      const eventAt = datasetAt[seen]
      const createdAt = runAt.get(row.id)
      if (eventAt === undefined || createdAt === undefined) throw new Error(`event ${i}: its NOTIFY or its run's was not heard`)
      if (i >= warmup) samples.push({ runMs: createdAt - eventAt, firstTaskMs: Number(row.value) - eventAt })
    }
  } finally {
    scheduler.stop()
    await loop
    await unlisten()
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
