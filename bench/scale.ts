// `npm run bench -- scale [--width N] [--reps R] [--processor-reps R]`
// Scale on Postgres: a 10,000-wide map end to end; the scheduler loop's p99 tick duration with 1,000 finished
// runs of a 200-task DAG in the history against none; 200 generated DAG files through the processor.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { loadConfig } from '../runtime/config.ts'
import { LocalExecutor } from '../runtime/executors/local/local-executor.ts'
import { processDagFolder } from '../runtime/processor/process-dag-folder.ts'
import { Scheduler } from '../runtime/scheduler/scheduler.ts'
import type { Store } from '../runtime/store/connect.ts'
import { triggerRun } from '../runtime/store/trigger.ts'
import { openBenchStore } from './forge-store.ts'
import { percentile } from './peers/common.ts'
import { intFlag, median } from './stats.ts'

const DAGS = fileURLToPath(new URL('./dags-scale/', import.meta.url))
const RUNTIME_INDEX = fileURLToPath(new URL('../runtime/index.ts', import.meta.url))
const HISTORY_RUNS = 1000
const HISTORY_TASKS = 200
const DAG_FILES = 200

const setup = (databaseUrl: string): Promise<Store> => openBenchStore(databaseUrl, 'forge_bench_scale', DAGS)

/** One scheduler for a whole measurement, timing every pass of its loop (`tick`). */
class Harness {
  private waiting = new Map<string, () => void>()
  private scheduler: Scheduler
  private loop: Promise<void>
  ticks: number[] = []
  constructor(private store: Store) {
    const config = loadConfig({ FORGE_POLL_INTERVAL: '1s' }, { dagsFolder: DAGS })
    this.scheduler = new Scheduler({
      config,
      store,
      executor: new LocalExecutor({ parallelism: 1024, threadWorkers: 1, store, config }),
      onEvent: (e) => {
        if (e.type === 'run:finished') this.waiting.get(e.runId)?.()
      },
    })
    const tick = this.scheduler.tick.bind(this.scheduler)
    this.scheduler.tick = async (now, periodic) => {
      const t0 = performance.now()
      const work = await tick(now, periodic)
      this.ticks.push(performance.now() - t0)
      return work
    }
    this.loop = this.scheduler.run()
  }

  async runOnce(dagId: string, conf: unknown = {}): Promise<number> {
    const t0 = performance.now()
    const run = await triggerRun(this.store.db, dagId, conf)
    await new Promise<void>((resolve) => this.waiting.set(run.run_id, resolve))
    const { state } = await this.store.db.selectFrom('dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()
    if (state !== 'success') throw new Error(`bench run ${run.run_id} ended ${state}`)
    return performance.now() - t0
  }

  async close(): Promise<void> {
    this.scheduler.stop()
    await this.loop
  }
}

/** Seconds for a map of `width` no-op thread tasks, trigger to run end. */
async function wideMap(databaseUrl: string, width: number, reps: number): Promise<number[]> {
  const store = await setup(databaseUrl)
  const h = new Harness(store)
  try {
    await h.runOnce('bench_wide', { n: 100 }) // warm-up: JIT, the worker thread, the DAG module
    const out: number[] = []
    for (let i = 0; i < reps; i++) out.push(Math.round(await h.runOnce('bench_wide', { n: width })) / 1000)
    return out
  } finally {
    await h.close()
    await store.close()
  }
}

/** Finished runs of bench_history, their instances, attempts and results, written directly in SQL. */
async function insertHistory(store: Store): Promise<void> {
  const { latest_version_id: v } = await store.db
    .selectFrom('dag')
    .select('latest_version_id')
    .where('dag_id', '=', 'bench_history')
    .executeTakeFirstOrThrow()
  await sql`insert into dag_run (dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, dag_version_id, queued_at, start_date, end_date, last_examined_at)
    select 'bench_history', 'manual__history_' || g, 'manual', case when g % 10 = 0 then 'failed' else 'success' end, t, t, t, ${v}, t, t, t + interval '1 minute', t
    from generate_series(1, ${HISTORY_RUNS}::int) g, lateral (select now() - g * interval '1 hour' as t) x`.execute(store.db)
  await sql`insert into task_instance (dag_run_id, dag_id, run_id, task_id, state, try_number, max_tries, pool, pool_slots, priority_weight, claimed_by, last_heartbeat_at, start_date, end_date, updated_at)
    select r.id, r.dag_id, r.run_id, 'link_' || i, 'success', 1, 1, 'default_pool', 1, 1, 'bench', r.end_date, r.start_date, r.end_date, r.end_date
    from dag_run r, generate_series(0, ${HISTORY_TASKS - 1}::int) i where r.dag_id = 'bench_history'`.execute(store.db)
  await sql`insert into task_attempt (task_instance_id, try_number, state, scheduler_id, start_date, end_date, log)
    select id, 1, 'success', 'bench', start_date, end_date, '' from task_instance where dag_id = 'bench_history'`.execute(store.db)
  await sql`insert into xcom (task_instance_id, dag_run_id, task_id, map_index, value, size_bytes)
    select id, dag_run_id, task_id, -1, 'null'::jsonb, 4 from task_instance where dag_id = 'bench_history'`.execute(store.db)
}

/** p99 of the loop's pass durations (ms) while 100 runs of bench_small run, four at a time. */
async function loopP99(store: Store): Promise<{ p99: number; p50: number; ticks: number }> {
  const h = new Harness(store)
  try {
    await h.runOnce('bench_small') // warm-up, untimed
    h.ticks = []
    for (let i = 0; i < 25; i++) await Promise.all(Array.from({ length: 4 }, () => h.runOnce('bench_small')))
    const ticks = h.ticks
    return { p99: round(percentile(ticks, 99)), p50: round(percentile(ticks, 50)), ticks: ticks.length }
  } finally {
    await h.close()
  }
}

async function history(
  databaseUrl: string,
): Promise<{ none: Awaited<ReturnType<typeof loopP99>>; withHistory: Awaited<ReturnType<typeof loopP99>> }> {
  const store = await setup(databaseUrl)
  try {
    const none = await loopP99(store)
    await insertHistory(store)
    const withHistory = await loopP99(store)
    return { none, withHistory }
  } finally {
    await store.close()
  }
}

/** Seconds to process a folder of DAG_FILES generated small DAG files (a short chain and a fan-in each). */
async function processor(): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'forge-bench-dags-'))
  try {
    for (let i = 0; i < DAG_FILES; i++) {
      await writeFile(
        path.join(dir, `gen_${i}.dag.ts`),
        `import { defineDag } from ${JSON.stringify(RUNTIME_INDEX)}

export default defineDag({ id: 'gen_${i}', schedule: '@daily' }, (dag) => {
  const a = dag.task('extract', () => [1, 2, 3])
  const b = dag.task('transform', { inputs: { xs: a.out }, run: ({ inputs }) => inputs.xs.length })
  dag.task('load', () => null, { after: [a, b] })
})
`,
      )
    }
    const t0 = performance.now()
    const { dags, errors } = await processDagFolder(dir, { timeoutMs: 60_000 })
    const s = (performance.now() - t0) / 1000
    if (errors.length || dags.length !== DAG_FILES)
      throw new Error(`generated DAGs: ${dags.length} loaded, errors ${JSON.stringify(errors.slice(0, 3))}`)
    return round(s)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export async function run(args: string[]): Promise<{ line: string; json: Record<string, unknown> }> {
  const databaseUrl = process.env.FORGE_DATABASE_URL
  if (!databaseUrl) throw new Error('set FORGE_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test')
  const width = intFlag(args, '--width', 10_000)
  const reps = intFlag(args, '--reps', 3)
  // A folder of 200 files takes minutes on a loaded machine: one repetition unless asked.
  const processorReps = intFlag(args, '--processor-reps', 3)
  const mapSeconds = await wideMap(databaseUrl, width, reps)
  const loops: Array<Awaited<ReturnType<typeof history>>> = []
  for (let i = 0; i < reps; i++) loops.push(await history(databaseUrl))
  const processorSeconds: number[] = []
  for (let i = 0; i < processorReps; i++) processorSeconds.push(await processor())
  const mapS = median(mapSeconds)
  const p99With = round(median(loops.map((l) => l.withHistory.p99)))
  const p99None = round(median(loops.map((l) => l.none.p99)))
  const procS = median(processorSeconds)
  const line =
    `scale: ${width} mapped tasks in ${mapS} s (${Math.round(width / mapS)} tasks/s), ` +
    `loop p99 ${p99With} ms with ${HISTORY_RUNS} finished runs (${p99None} ms with none), ` +
    `${DAG_FILES} DAG files processed in ${procS} s`
  return {
    line,
    json: {
      params: { width, reps, processorReps, historyRuns: HISTORY_RUNS, historyTasksPerRun: HISTORY_TASKS, dagFiles: DAG_FILES },
      medians: { mapSeconds: mapS, loopP99MsWithHistory: p99With, loopP99MsWithout: p99None, processorSeconds: procS },
      reps: { mapSeconds, loops, processorSeconds },
    },
  }
}
