// `npm run bench -- attempt [--n N] [--reps R] [--pool P]` (needs FORGE_DATABASE_URL): an N-link chain (50) of
// no-op process-isolated tasks through the real scheduler and local executor on Postgres; each link is one task
// runner process. Per attempt: the time from one link's task to the next one's, so it holds everything an attempt
// costs (the result recorded, the successor claimed and handed to a runner, the runner loading the attempt and
// the DAG file). Beside it, in the same run: a bare `node -e 0` and `node --import tsx -e 0`, started and waited for.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../runtime/config.ts'
import { LocalExecutor } from '../runtime/executors/local/local-executor.ts'
import { buildCacheRoot } from '../runtime/prebuilt/build-cache.ts'
import { ensureRunnerBundle } from '../runtime/prebuilt/runner-bundle.ts'
import { Scheduler } from '../runtime/scheduler/scheduler.ts'
import { triggerRun } from '../runtime/store/trigger.ts'
import { openBenchStore } from './forge-store.ts'
import { percentile, round } from './peers/common.ts'
import { intFlag, median } from './stats.ts'

const DAGS = fileURLToPath(new URL('./dags-attempt/', import.meta.url))
const TSX = import.meta.resolve('tsx')

/** Milliseconds to start a process with these arguments and see it exit, median of `n`. */
function startMs(args: string[], n: number): number {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' })
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}`)
    times.push(performance.now() - t0)
  }
  return round(median(times), 1)
}

export async function run(args: string[]): Promise<{ line: string; json: Record<string, unknown> }> {
  const databaseUrl = process.env.FORGE_DATABASE_URL
  if (!databaseUrl) throw new Error('set FORGE_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test')
  const n = intFlag(args, '--n', 50)
  const reps = intFlag(args, '--reps', 2)
  const poolSize = intFlag(args, '--pool', 2)
  process.env.BENCH_ATTEMPT_N = String(n)
  const store = await openBenchStore(databaseUrl, 'forge_bench_attempt', DAGS)
  const config = loadConfig(
    { FORGE_DATABASE_URL: databaseUrl, FORGE_POLL_INTERVAL: '1s', FORGE_PREBUILT_RUNNER: process.env.FORGE_PREBUILT_RUNNER },
    { dagsFolder: DAGS },
  )
  const waiting = new Map<string, () => void>()
  const scheduler = new Scheduler({
    config,
    store,
    executor: new LocalExecutor({ parallelism: 4, threadWorkers: 1, store, config, runnerPool: poolSize }),
    onEvent: (e) => {
      if (e.type === 'run:finished') waiting.get(e.runId)?.()
    },
  })
  const loop = scheduler.run()
  const runChain = async (): Promise<number[]> => {
    const run = await triggerRun(store.db, 'bench_attempt_chain', {})
    await new Promise<void>((resolve) => waiting.set(run.run_id, resolve))
    const state = await store.db.selectFrom('dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()
    if (state.state !== 'success') throw new Error(`bench run ${run.run_id} ended ${state.state}`)
    const rows = await store.db.selectFrom('xcom').select(['task_id', 'value']).where('dag_run_id', '=', run.id).execute()
    const at = rows.map((r) => ({ i: Number(r.task_id.slice('link_'.length)), t: r.value as number })).sort((a, b) => a.i - b.i)
    return at.slice(1).map((x, k) => x.t - at[k]!.t)
  }
  let perAttempt: number[] = []
  const repMedians: number[] = []
  try {
    // Untimed warm-up: the runner pool, the DAG module's transform cache, the statements' plans.
    await runChain()
    for (let r = 0; r < reps; r++) {
      const links = await runChain()
      repMedians.push(round(median(links), 1))
      perAttempt = perAttempt.concat(links)
    }
  } finally {
    scheduler.stop()
    await loop
    await store.close()
  }
  const p50 = round(percentile(perAttempt, 50), 1)
  const p90 = round(percentile(perAttempt, 90), 1)
  const nodeMs = startMs(['-e', '0'], 10)
  const tsxMs = startMs(['--import', TSX, '-e', '0'], 10)
  // A prebuilt runner started without a launcher loads the runtime and exits: its start-up alone.
  const bundle = config.prebuiltRunner ? await ensureRunnerBundle(buildCacheRoot(config.home)) : null
  const runnerMs = bundle ? startMs([bundle.child, bundle.manifest], 10) : null
  return {
    line: `attempt: process p50 ${p50} ms per attempt (node -e 0 ${nodeMs} ms, node --import tsx -e 0 ${tsxMs} ms)`,
    json: {
      params: { n, reps, pool: poolSize, prebuiltRunner: config.prebuiltRunner },
      forge: { p50MsPerAttempt: p50, p90MsPerAttempt: p90, repMedians },
      peers: { nodeMs, nodeTsxMs: tsxMs, prebuiltRunnerStartMs: runnerMs },
    },
  }
}
