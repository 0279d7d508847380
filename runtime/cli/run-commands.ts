import { ConfigError } from '../errors.ts'
import { RunState, RunType } from '../model/states.ts'
import { cronFor, intervalStartingAt } from '../scheduler/schedule.ts'
import { refreshDags } from '../scheduler/refresh-dags.ts'
import { readLogChunks } from '../store/attempt-log.ts'
import { getDagVersion, getLatestDag } from '../store/dag.repo.ts'
import { createRun, findRun, listRuns } from '../store/run.repo.ts'
import type { CliContext } from './context.ts'
import { checkedParams } from './dag-commands.ts'
import { iso, printJson, printTable } from './output.ts'

export async function runsList(ctx: CliContext, opts: { dag?: string; json?: boolean }): Promise<number> {
  const runs = await listRuns(ctx.store.db, opts.dag)
  const rows = runs.map((r) => ({ dag_id: r.dag_id, run_id: r.run_id, state: r.state, logical_date: iso(r.logical_date), start: iso(r.start_date), end: iso(r.end_date), reason: r.reason }))
  if (opts.json) printJson(rows)
  else printTable(['dag_id', 'run_id', 'state', 'start', 'end', 'reason'], rows.map((r) => [r.dag_id, r.run_id, r.state, r.start, r.end, r.reason]))
  return 0
}

async function requireRun(ctx: CliContext, runId: string) {
  const run = await findRun(ctx.store.db, runId)
  if (!run) throw new ConfigError(`no run "${runId}": see \`forge runs list\``)
  return run
}

export async function tasksList(ctx: CliContext, runId: string, opts: { json?: boolean }): Promise<number> {
  const run = await requireRun(ctx, runId)
  const tis = await ctx.store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run.id).orderBy('id').orderBy('map_index').execute()
  // The operator is part of the DAG version the run was created with, not of each instance.
  const operators = new Map((await getDagVersion(ctx.store.db, run.dag_version_id)).tasks.map((t) => [t.task_id, t.operator]))
  const rows = tis.map((t) => ({ task_id: t.task_id, map_index: t.map_index, operator: operators.get(t.task_id) ?? null, state: t.state, try_number: t.try_number, start: iso(t.start_date), end: iso(t.end_date), executor_id: t.executor_id }))
  if (opts.json) printJson(rows)
  else printTable(['task_id', 'map', 'operator', 'state', 'try', 'start', 'end', 'reason'], tis.map((t) => [t.task_id, t.map_index, operators.get(t.task_id) ?? null, t.state ?? 'none', t.try_number, iso(t.start_date), iso(t.end_date), t.reason]))
  return 0
}

/**
 * `--try` and `--map-index` arrive checked (cli/options.ts). Each attempt's log is the text of rows recorded before
 * logs were chunked, then its chunks in order; with `--follow`, an attempt still queued or running is printed as
 * its chunks arrive, until it finishes.
 */
export async function logs(ctx: CliContext, runId: string, taskId: string, opts: { try?: number; mapIndex?: number; follow?: boolean }): Promise<number> {
  const run = await requireRun(ctx, runId)
  const db = ctx.store.db
  const mapIndex = opts.mapIndex ?? null
  let q = db
    .selectFrom('task_attempt as a')
    .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
    .select(['a.id', 'a.try_number', 'a.state', 'a.reason', 'a.log', 'ti.map_index', 'a.executor_id'])
    .where('ti.dag_run_id', '=', run.id)
    .where('ti.task_id', '=', taskId)
  if (mapIndex !== null) q = q.where('ti.map_index', '=', mapIndex)
  if (opts.try !== undefined) q = q.where('a.try_number', '=', opts.try)
  const attempts = await q.orderBy('ti.map_index').orderBy('a.try_number').execute()
  const which = `${mapIndex !== null ? ` map index ${mapIndex}` : ''}${opts.try !== undefined ? ` try ${opts.try}` : ''}`
  if (attempts.length === 0) throw new ConfigError(`no attempts of task "${taskId}"${which} in run "${runId}"`)
  for (const a of attempts) {
    const name = `${taskId}${a.map_index >= 0 ? `[${a.map_index}]` : ''} try ${a.try_number}`
    process.stdout.write(`--- ${name}: ${a.state}${a.reason ? ` (${a.reason})` : ''} on ${a.executor_id ?? '-'}\n`)
    const out = new LineEnd()
    out.write(a.log)
    let seq = 0
    let state = a.state
    for (;;) {
      for (const c of await readLogChunks(db, a.id, seq)) {
        out.write(c.text)
        seq = c.seq
      }
      if (!opts.follow || (state !== 'queued' && state !== 'running')) break
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS))
      const now = await db.selectFrom('task_attempt').select(['state', 'reason']).where('id', '=', a.id).executeTakeFirstOrThrow()
      state = now.state
      // One more read after the attempt has finished: its last chunks are written before its outcome.
      if (state !== 'queued' && state !== 'running') {
        for (const c of await readLogChunks(db, a.id, seq)) out.write(c.text)
        out.end()
        process.stdout.write(`--- ${name}: ${state}${now.reason ? ` (${now.reason})` : ''}\n`)
        break
      }
    }
    out.end()
  }
  return 0
}

/** How often `forge logs --follow` looks for new chunks. */
const FOLLOW_POLL_MS = 250

/** Writes text to stdout and ends what it wrote with a newline, so the next header starts on its own line. */
class LineEnd {
  private last = '\n'
  write(text: string): void {
    if (text === '') return
    process.stdout.write(text)
    this.last = text.at(-1)!
  }
  end(): void {
    if (this.last !== '\n') process.stdout.write('\n')
    this.last = '\n'
  }
}

/**
 * Creates the scheduled-style runs whose intervals start in [from, to); the scheduler then runs them in order. The
 * conf is checked against the params schema in a child, like trigger's, before any run is created.
 */
export async function backfill(ctx: CliContext, dagId: string, opts: { from: Date; to: Date; conf?: Record<string, unknown> }): Promise<number> {
  const { from, to } = opts
  await refreshDags(ctx.store.db, ctx.config)
  const latest = await getLatestDag(ctx.store.db, dagId)
  if (!latest) throw new ConfigError(`no DAG "${dagId}": run \`forge dags list\` to see the DAGs and import errors`)
  if (!latest.dag.schedule) throw new ConfigError(`DAG "${dagId}" has no schedule, so it has no intervals to backfill; use \`forge trigger\``)
  const params = await checkedParams(ctx, dagId, opts.conf)
  const cron = cronFor(latest.dag.schedule, latest.dag.timezone)
  let created = 0
  await ctx.store.db.transaction().execute(async (trx) => {
    for (let iv = intervalStartingAt(cron, from); iv && iv.start < to; iv = intervalStartingAt(cron, iv.end)) {
      const run = await createRun(trx, {
        dag: latest.dag,
        versionId: latest.versionId,
        runType: RunType.Backfill,
        logicalDate: iv.start,
        interval: iv,
        conf: params,
      })
      if (run) {
        created++
        console.log(run.run_id)
      }
    }
  })
  console.error(`${created} backfill run(s) created for ${dagId}; they stay ${RunState.Queued} until a scheduler runs them (max_active_runs applies)`)
  return 0
}
