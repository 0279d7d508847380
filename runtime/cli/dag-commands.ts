import { listDags, refuseIfPaused, setPaused, triggerDag } from '../service/index.ts'
import { refreshDags } from '../scheduler/refresh-dags.ts'
import { serviceOf, type CliContext } from './context.ts'
import { printJson } from './output.ts'
import { runScheduler, schedulerExecutors, startScheduler } from './run-scheduler.ts'

export async function dagsList(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const out = await listDags(serviceOf(ctx))
  if (opts.json) printJson(out)
  else {
    for (const d of out.dags)
      console.log(`${d.dag_id.padEnd(28)} ${(d.schedule ?? 'manual').padEnd(14)} ${d.tasks.length} tasks  ${d.is_paused ? 'paused  ' : ''}${d.file}`)
    for (const e of out.errors) console.log(`import error: ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`)
  }
  return 0
}

/** `forge dags pause|unpause`: a line saying what changed, or that nothing had to. */
export async function dagsPause(ctx: CliContext, dagId: string, paused: boolean): Promise<number> {
  const { changed } = await setPaused(serviceOf(ctx), dagId, paused)
  const state = paused ? 'paused' : 'unpaused'
  console.log(changed ? `${dagId} ${state}` : `${dagId} was ${state} already`)
  return 0
}

export async function trigger(ctx: CliContext, dagId: string, opts: { conf?: Record<string, unknown>; wait?: boolean }): Promise<number> {
  const svc = serviceOf(ctx)
  if (opts.wait) await refuseIfPaused(svc, dagId, 'a run waited for')
  const { run, paused } = await triggerDag(svc, dagId, opts.conf)
  console.log(run.run_id)
  if (paused) console.error(`${dagId} is paused: the run stays queued until \`forge dags unpause ${dagId}\``)
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
  const svc = serviceOf(ctx)
  await refreshDags(ctx.store.db, ctx.config)
  await refuseIfPaused(svc, dagId, 'its test run')
  const { run } = await triggerDag(svc, dagId, opts.conf)
  console.log(`run ${run.run_id}`)
  let finished: string | null = null
  const { scheduler, done } = startScheduler(ctx, {
    ...(await schedulerExecutors(ctx)),
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
