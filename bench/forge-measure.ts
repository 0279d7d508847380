// adas-forge's own side of `npm run bench -- scheduler`: the bench DAGs run through the real scheduler, the
// claim/complete SQL on Postgres and the worker-thread executor, in this process (as the peers run theirs).
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../runtime/config.ts'
import { LocalExecutor } from '../runtime/executors/local/local-executor.ts'
import { processDagFolder } from '../runtime/processor/process-dag-folder.ts'
import { Scheduler } from '../runtime/scheduler/scheduler.ts'
import { openPostgres, type Store } from '../runtime/store/connect.ts'
import { syncDags } from '../runtime/store/dag.repo.ts'
import { migrate } from '../runtime/store/migrate.ts'
import { triggerRun } from '../runtime/store/trigger.ts'
import { chainResult, freshDatabase, type ChainResult, type FanoutResult } from './peers/common.ts'
import { medianOf, type MeasureOptions, type PeerSummary } from './scheduler-peers.ts'

const DAGS = fileURLToPath(new URL('./dags/', import.meta.url))

async function setup(databaseUrl: string, fanoutN: number, chainN: number): Promise<Store> {
  const url = await freshDatabase(databaseUrl, 'forge_bench_forge')
  const store = await openPostgres(url)
  await migrate(store.db)
  // Pools are not what is measured: give the default pool room for the whole fan-out.
  await store.db.updateTable('pool').set({ slots: 100_000 }).where('name', '=', 'default_pool').execute()
  process.env.BENCH_FANOUT_N = String(fanoutN)
  process.env.BENCH_CHAIN_N = String(chainN)
  const { dags, errors } = await processDagFolder(DAGS, { timeoutMs: 60_000 })
  if (errors.length) throw new Error(`bench DAGs failed to import: ${JSON.stringify(errors)}`)
  await syncDags(store.db, dags, [])
  return store
}

/** Runs one manual run of `dagId` to the end with a fresh scheduler; returns the run's primary key and duration. */
async function runOnce(store: Store, dagId: string): Promise<{ runPk: number; ms: number }> {
  const config = loadConfig({ FORGE_POLL_INTERVAL: '1s' }, { dagsFolder: DAGS })
  // 2 cores: one worker thread beside the scheduler's event loop and Postgres keeps every core busy.
  const executor = new LocalExecutor({ parallelism: 512, threadWorkers: 1 })
  const t0 = performance.now()
  const run = await triggerRun(store.db, dagId, {})
  const scheduler = new Scheduler({ config, store, executor, onlyRunPk: run.id })
  await scheduler.run()
  return { runPk: run.id, ms: performance.now() - t0 }
}

async function fanout(store: Store, n: number): Promise<FanoutResult> {
  const { runPk, ms } = await runOnce(store, 'bench_fanout')
  await expectSuccess(store, runPk)
  return { tasksPerSec: Math.round(((n + 2) / ms) * 1000), seconds: Math.round(ms) / 1000 }
}

async function chain(store: Store): Promise<ChainResult> {
  const { runPk } = await runOnce(store, 'bench_chain')
  await expectSuccess(store, runPk)
  const rows = await store.db.selectFrom('xcom').select(['task_id', 'value']).where('dag_run_id', '=', runPk).execute()
  const byIndex = rows.map((r) => ({ i: Number(r.task_id.slice('link_'.length)), v: r.value as { start: number; end: number } })).sort((a, b) => a.i - b.i)
  return chainResult(byIndex.map((r) => r.v.start), byIndex.map((r) => r.v.end), byIndex[0]!.v.start)
}

async function expectSuccess(store: Store, runPk: number): Promise<void> {
  const run = await store.db.selectFrom('dag_run').select('state').where('id', '=', runPk).executeTakeFirstOrThrow()
  if (run.state !== 'success') throw new Error(`bench run ${runPk} ended ${run.state}`)
}

export async function measureForge(opts: MeasureOptions): Promise<PeerSummary> {
  const { fanoutN = 1000, chainN = 200, reps = 3, databaseUrl } = opts
  const store = await setup(databaseUrl, fanoutN, chainN)
  try {
    // Untimed warm-up, as the peers get: JIT, the worker thread and the DAG module import.
    await runOnce(store, 'bench_chain')
    const raw: PeerSummary['reps'] = { fanout: [], chain: [] }
    for (let rep = 0; rep < reps; rep++) {
      raw.fanout.push(await fanout(store, fanoutN))
      raw.chain.push(await chain(store))
    }
    return { fanout: medianOf(raw.fanout), chain: medianOf(raw.chain), reps: raw }
  } finally {
    await store.close()
  }
}
