import { resolve } from 'node:path'
import { ParamsError } from '../errors.ts'
import { getLatestDag } from '../store/dag.repo.ts'
import { refreshDags } from '../scheduler/refresh-dags.ts'
import { triggerRun } from '../store/trigger.ts'
import type { MainJob } from '../plugin.ts'
import type { CliContext } from './context.ts'
import { startScheduler } from './run-scheduler.ts'
import { createDatasetRuns } from '../scheduler/create-dataset-runs.ts'

/** What `npm start` runs when no plugin's main job loads: the example chain. */
const FALLBACK: MainJob = { dagId: 'example_etl' }

/**
 * `npm start`: one full dataset build on embedded defaults (PGlite under FORGE_HOME, carla-lite in-process),
 * with progress, ending in a summary and exit 0 iff the run succeeded.
 */
export async function mainJob(ctx: CliContext, offered: MainJob[]): Promise<number> {
  const started = Date.now()
  const { dags, errors } = await refreshDags(ctx.store.db, ctx.config)
  for (const e of errors) console.error(`import error (other DAGs still load): ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`)
  const candidates = [...offered, FALLBACK]
  const job = candidates.find((j) => dags.some((d) => d.dag_id === j.dagId))
  if (!job) {
    console.error(`none of ${candidates.map((j) => j.dagId).join(', ')} loaded from ${ctx.config.dagsFolder}`)
    return 1
  }
  const dagId = job.dagId
  const latest = (await getLatestDag(ctx.store.db, dagId))!
  // The processor parsed an empty conf with the params schema just now: its result is a valid conf, or the reason there is none.
  if (latest.dag.default_params === null)
    throw new ParamsError(latest.dag.params_error ?? `dag "${dagId}": the params have no valid defaults`, '(root)')
  const run = await triggerRun(ctx.store.db, dagId, latest.dag.default_params)
  console.error(
    `adas-forge: running ${dagId} (${latest.dag.tasks.length} tasks) as ${run.run_id}; store: ${ctx.store.kind === 'pglite' ? resolve(ctx.config.home, 'pgdata') : 'postgres'}`,
  )
  let state = 'unfinished'
  const { scheduler, done } = startScheduler(ctx, {
    refresh: false,
    onlyRunPk: run.id,
    onEvent: (e) => {
      if (e.type === 'run:finished' && e.runId === run.run_id) {
        state = e.state
        scheduler.stop()
      }
    },
  })
  await done
  await printSummary(ctx, run.id, run.run_id, state, Date.now() - started, job.summaryKeys ?? [])
  if (state !== 'success') return 1
  // The datasets the run produced start the DAGs scheduled on them (the training run): run those too, here.
  const followed = await runTriggered(ctx, run.run_id)
  return followed.every((f) => f.state === 'success') ? 0 : 1
}

/** Creates the runs the main run's dataset events call for and runs each to its end in this process. */
async function runTriggered(ctx: CliContext, runId: string): Promise<Array<{ runId: string; state: string }>> {
  await createDatasetRuns(ctx.store.db)
  const triggered = await ctx.store.db
    .selectFrom('dag_run_dataset_event as l')
    .innerJoin('dataset_event as e', 'e.id', 'l.dataset_event_id')
    .innerJoin('dag_run as r', 'r.id', 'l.dag_run_id')
    .innerJoin('dataset as ds', 'ds.id', 'e.dataset_id')
    .select(['r.id', 'r.run_id', 'r.dag_id', 'ds.uri', 'e.version'])
    .where('e.source_run_id', '=', runId)
    .distinct()
    .orderBy('r.id')
    .execute()
  const out: Array<{ runId: string; state: string }> = []
  for (const t of triggered) {
    const started = Date.now()
    console.error(`adas-forge: ${t.uri} ${t.version ?? ''} started ${t.dag_id} as ${t.run_id}`)
    let state = 'unfinished'
    const { scheduler, done } = startScheduler(ctx, {
      refresh: false,
      onlyRunPk: t.id,
      onEvent: (e) => {
        if (e.type === 'run:finished' && e.runId === t.run_id) {
          state = e.state
          scheduler.stop()
        }
      },
    })
    await done
    out.push({ runId: t.run_id, state })
    const models = await ctx.store.db
      .selectFrom('dataset_event as e')
      .innerJoin('dataset as ds', 'ds.id', 'e.dataset_id')
      .select(['ds.uri', 'e.version'])
      .where('e.source_run_id', '=', t.run_id)
      .execute()
    const w = process.stdout
    w.write(`\n== ${t.dag_id} (started by ${t.uri} ${t.version ?? ''}) ==\n`)
    w.write(`run:    ${t.run_id} — ${state} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`)
    for (const m of models) {
      w.write(`output: ${m.uri} ${m.version ?? ''}\n`)
      if (m.uri.startsWith('model://') && m.version) w.write(`lineage: forge lineage model ${m.uri.slice('model://'.length)}/${m.version}\n`)
    }
    if (t.uri.startsWith('dataset://') && t.version) w.write(`dataset: forge lineage dataset ${t.uri.slice('dataset://'.length)}@${t.version}\n`)
  }
  return out
}

async function printSummary(ctx: CliContext, runPk: number, runId: string, state: string, ms: number, order: string[]): Promise<void> {
  const tis = await ctx.store.db
    .selectFrom('task_instance')
    .select(['task_id', 'map_index', 'state', 'try_number', 'reason'])
    .where('dag_run_id', '=', runPk)
    .orderBy('id')
    .execute()
  const counts = new Map<string, number>()
  for (const t of tis) counts.set(t.state ?? 'none', (counts.get(t.state ?? 'none') ?? 0) + 1)
  const xcoms = await ctx.store.db.selectFrom('xcom').select(['task_id', 'map_index', 'value']).where('dag_run_id', '=', runPk).execute()
  const summary = xcoms.find((x) => x.task_id === 'summary')?.value as Record<string, unknown> | undefined
  const out = process.stdout
  out.write(`\n== adas-forge summary ==\n`)
  out.write(`run:    ${runId} — ${state} in ${(ms / 1000).toFixed(1)}s\n`)
  out.write(`tasks:  ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}\n`)
  for (const t of tis.filter((t) => t.state !== 'success'))
    out.write(`        ${t.task_id}${t.map_index >= 0 ? `[${t.map_index}]` : ''}: ${t.state ?? 'none'}${t.reason ? ` — ${t.reason}` : ''}\n`)
  // jsonb does not keep key order: print the main job's keys first, then whatever else the summary task returned.
  const keys = summary ? [...order.filter((k) => k in summary), ...Object.keys(summary).filter((k) => !order.includes(k))] : []
  const width = Math.max(8, ...keys.map((k) => k.length + 2))
  for (const k of keys) {
    const v = summary![k]
    const text = k === 'bytes' && typeof v === 'number' ? `${(v / 1048576).toFixed(1)} MiB` : typeof v === 'string' ? v : JSON.stringify(v)
    out.write(`${(k + ':').padEnd(width)}${text}\n`)
  }
  out.write(`${'logs:'.padEnd(width)}forge logs ${runId} <task_id>\n`)
}
