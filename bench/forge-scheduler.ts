// adas-forge's own side of `npm run bench -- scheduler`: the bench DAGs run through the real scheduler, the
// claim/complete SQL on Postgres and the worker-thread executor, in this process (as the peers run theirs).
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../runtime/config.ts'
import { LocalExecutor } from '../runtime/executors/local/local-executor.ts'
import { Scheduler } from '../runtime/scheduler/scheduler.ts'
import type { Store } from '../runtime/store/connect.ts'
import { triggerRun } from '../runtime/store/trigger.ts'
import { openBenchStore } from './forge-store.ts'
import { chainResult, type ChainResult, type FanoutResult } from './peers/common.ts'
import type { MeasureOptions, PeerSummary } from './scheduler-peers.ts'
import { medianOf } from './stats.ts'

const DAGS = fileURLToPath(new URL('./dags/', import.meta.url))

async function setup(databaseUrl: string, fanoutN: number, chainN: number): Promise<Store> {
  // The bench DAGs read their sizes from the environment when the processor imports them.
  process.env.BENCH_FANOUT_N = String(fanoutN)
  process.env.BENCH_CHAIN_N = String(chainN)
  return openBenchStore(databaseUrl, 'forge_bench_forge', DAGS)
}

/**
 * One long-lived scheduler and executor for the whole measurement, as in production (the peers likewise keep one
 * worker per repetition); each timed run goes from trigger to the scheduler's run:finished event.
 */
class Harness {
  private waiting = new Map<string, () => void>()
  private scheduler: Scheduler
  private loop: Promise<void>
  constructor(private store: Store) {
    const config = loadConfig({ FORGE_POLL_INTERVAL: '1s' }, { dagsFolder: DAGS })
    // 2 cores: one worker thread beside the scheduler's event loop and Postgres keeps every core busy.
    const executor = new LocalExecutor({ parallelism: 1024, threadWorkers: 1, store, config })
    this.scheduler = new Scheduler({
      config,
      store,
      executor,
      onEvent: (e) => {
        if (e.type === 'run:finished') this.waiting.get(e.runId)?.()
      },
    })
    this.loop = this.scheduler.run()
  }

  async runOnce(dagId: string): Promise<{ runPk: number; ms: number }> {
    const t0 = performance.now()
    const run = await triggerRun(this.store.db, dagId, {})
    await new Promise<void>((resolve) => this.waiting.set(run.run_id, resolve))
    return { runPk: run.id, ms: performance.now() - t0 }
  }

  async close(): Promise<void> {
    this.scheduler.stop()
    await this.loop
  }
}

async function fanout(h: Harness, store: Store, n: number): Promise<FanoutResult> {
  const { runPk, ms } = await h.runOnce('bench_fanout')
  await expectSuccess(store, runPk)
  return { tasksPerSec: Math.round(((n + 2) / ms) * 1000), seconds: Math.round(ms) / 1000 }
}

async function chain(h: Harness, store: Store): Promise<ChainResult> {
  const { runPk } = await h.runOnce('bench_chain')
  await expectSuccess(store, runPk)
  const rows = await store.db.selectFrom('xcom').select(['task_id', 'value']).where('dag_run_id', '=', runPk).execute()
  const byIndex = rows
    .map((r) => ({ i: Number(r.task_id.slice('link_'.length)), v: r.value as { start: number; end: number } }))
    .sort((a, b) => a.i - b.i)
  return chainResult(
    byIndex.map((r) => r.v.start),
    byIndex.map((r) => r.v.end),
  )
}

async function expectSuccess(store: Store, runPk: number): Promise<void> {
  const run = await store.db.selectFrom('dag_run').select('state').where('id', '=', runPk).executeTakeFirstOrThrow()
  if (run.state !== 'success') throw new Error(`bench run ${runPk} ended ${run.state}`)
}

export async function measureForge(opts: MeasureOptions): Promise<PeerSummary> {
  const { fanoutN = 1000, chainN = 200, reps = 3, databaseUrl } = opts
  const store = await setup(databaseUrl, fanoutN, chainN)
  const h = new Harness(store)
  try {
    // Untimed warm-up, as the peers get: JIT, the worker thread and the import of both DAG modules.
    await h.runOnce('bench_chain')
    await h.runOnce('bench_fanout')
    const raw: PeerSummary['reps'] = { fanout: [], chain: [] }
    for (let rep = 0; rep < reps; rep++) {
      raw.fanout.push(await fanout(h, store, fanoutN))
      raw.chain.push(await chain(h, store))
    }
    return { fanout: medianOf(raw.fanout), chain: medianOf(raw.chain), reps: raw }
  } finally {
    await h.close()
    await store.close()
  }
}
