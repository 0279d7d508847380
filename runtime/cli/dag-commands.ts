import { resolve } from 'node:path'
import { ParamsError, ConfigError } from '../errors.ts'
import { validateConf } from '../processor/validate-conf.ts'
import { refreshDags } from '../scheduler/refresh-dags.ts'
import { getLatestDag } from '../store/dag.repo.ts'
import { triggerRun } from '../store/trigger.ts'
import type { CliContext } from './context.ts'
import { printJson } from './output.ts'
import { runScheduler, startScheduler } from './run-scheduler.ts'

export async function dagsList(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const { dags, errors } = await refreshDags(ctx.store.db, ctx.config)
  const out = {
    dags: dags.map((d) => ({ dag_id: d.dag_id, file: d.fileloc, schedule: d.schedule, tasks: d.tasks.map((t) => t.task_id) })),
    errors: errors.map((e) => ({ file: e.file, line: e.line, message: e.message })),
  }
  if (opts.json) printJson(out)
  else {
    for (const d of out.dags) console.log(`${d.dag_id.padEnd(28)} ${(d.schedule ?? 'manual').padEnd(14)} ${d.tasks.length} tasks  ${d.file}`)
    for (const e of out.errors) console.log(`import error: ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`)
  }
  return 0
}

/** Checks a run's conf (parsed by cli/options.ts) against the DAG's params schema in a child process, before any run exists. */
export async function checkedParams(ctx: CliContext, dagId: string, conf: Record<string, unknown> = {}): Promise<unknown> {
  let latest = await getLatestDag(ctx.store.db, dagId)
  if (!latest) {
    await refreshDags(ctx.store.db, ctx.config)
    latest = await getLatestDag(ctx.store.db, dagId)
  }
  if (!latest) throw new ConfigError(`no DAG "${dagId}" in ${ctx.config.dagsFolder}: run \`forge dags list\` to see the DAGs and import errors`)
  const checked = await validateConf(resolve(ctx.config.dagsFolder, latest.dag.fileloc), dagId, conf, { timeoutMs: ctx.config.dagImportTimeoutMs })
  if (!checked.ok) throw new ParamsError(checked.message, checked.field)
  return checked.params
}

export async function trigger(ctx: CliContext, dagId: string, opts: { conf?: Record<string, unknown>; wait?: boolean }): Promise<number> {
  const params = await checkedParams(ctx, dagId, opts.conf)
  const run = await triggerRun(ctx.store.db, dagId, params)
  console.log(run.run_id)
  if (!opts.wait) return 0
  return (await waitForRun(ctx, run.id)) === 'success' ? 0 : 1
}

/**
 * Waits for a run by working on it: this process runs a scheduler restricted to that run. Schedulers already running
 * against the same Postgres share its tasks (claims skip locked rows), and on the embedded store, where no other
 * process can open the database, this is what makes the run progress at all.
 */
export async function waitForRun(ctx: CliContext, runPk: number): Promise<string> {
  await runScheduler(ctx, { refresh: false, onlyRunPk: runPk })
  return (await ctx.store.db.selectFrom('dag_run').select('state').where('id', '=', runPk).executeTakeFirstOrThrow()).state
}

/** `forge dags test`: one run now, in this process, with a line per attempt; exit 0 iff it succeeded. */
export async function dagsTest(ctx: CliContext, dagId: string, opts: { conf?: Record<string, unknown> }): Promise<number> {
  await refreshDags(ctx.store.db, ctx.config)
  const params = await checkedParams(ctx, dagId, opts.conf)
  const run = await triggerRun(ctx.store.db, dagId, params)
  console.log(`run ${run.run_id}`)
  let finished: string | null = null
  const { scheduler, done } = startScheduler(ctx, {
    refresh: false,
    onlyRunPk: run.id,
    onEvent: (e) => {
      if (e.type === 'attempt:finished') {
        const s = e.spec
        console.log(`${s.taskId}${s.mapIndex >= 0 ? `[${s.mapIndex}]` : ''} try ${s.tryNumber}: ${e.ok ? 'success' : `failed (${e.reason})`}`)
      }
      if (e.type === 'run:finished' && e.runId === run.run_id) {
        finished = e.state
        scheduler.stop()
      }
    },
  })
  await done
  console.log(`run ${run.run_id}: ${finished ?? 'unfinished'}`)
  return finished === 'success' ? 0 : 1
}
