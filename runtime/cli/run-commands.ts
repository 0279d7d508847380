import { RunState } from '../model/states.ts'
import { backfillDag, clearRun, listRuns, listTasks, markTask, readLogs, type MarkState } from '../service/index.ts'
import { readNewLogChunks, type LogCursor } from '../store/attempt-log.ts'
import { serviceOf, type CliContext } from './context.ts'
import { iso, printJson, printTable } from './output.ts'

export async function runsList(ctx: CliContext, opts: { dag?: string; json?: boolean }): Promise<number> {
  const runs = await listRuns(serviceOf(ctx), { dagId: opts.dag })
  const rows = runs.map((r) => ({
    dag_id: r.dag_id,
    run_id: r.run_id,
    state: r.state,
    logical_date: iso(r.logical_date),
    start: iso(r.start_date),
    end: iso(r.end_date),
    reason: r.reason,
    code_digest: r.code_digest,
  }))
  if (opts.json) printJson(rows)
  else
    printTable(
      ['dag_id', 'run_id', 'state', 'start', 'end', 'reason'],
      rows.map((r) => [r.dag_id, r.run_id, r.state, r.start, r.end, r.reason]),
    )
  return 0
}

export async function tasksList(ctx: CliContext, runId: string, opts: { json?: boolean }): Promise<number> {
  const tis = await listTasks(serviceOf(ctx), runId)
  const rows = tis.map((t) => ({
    task_id: t.task_id,
    map_index: t.map_index,
    operator: t.operator,
    state: t.state,
    try_number: t.try_number,
    start: iso(t.start_date),
    end: iso(t.end_date),
    executor_id: t.executor_id,
  }))
  if (opts.json) printJson(rows)
  else
    printTable(
      ['task_id', 'map', 'operator', 'state', 'try', 'start', 'end', 'reason'],
      tis.map((t) => [t.task_id, t.map_index, t.operator, t.state ?? 'none', t.try_number, iso(t.start_date), iso(t.end_date), t.reason]),
    )
  return 0
}

/**
 * `--try` and `--map-index` arrive checked (cli/options.ts). Each attempt's log is the text of rows recorded before
 * logs were chunked, then its chunks in order; with `--follow`, an attempt still queued or running is printed as
 * its chunks arrive, until it finishes.
 */
export async function logs(
  ctx: CliContext,
  runId: string,
  taskId: string,
  opts: { try?: number; mapIndex?: number; follow?: boolean },
): Promise<number> {
  const attempts = await readLogs(serviceOf(ctx), runId, taskId, { tryNumber: opts.try, mapIndex: opts.mapIndex })
  const db = ctx.store.db
  for (const a of attempts) {
    const name = `${taskId}${a.map_index >= 0 ? `[${a.map_index}]` : ''} try ${a.try_number}`
    process.stdout.write(`--- ${name}: ${a.state}${a.reason ? ` (${a.reason})` : ''} on ${a.executor_id ?? '-'}\n`)
    const out = new LineEnd()
    out.write(a.log)
    let cursor: LogCursor | undefined
    let state = a.state
    for (;;) {
      const read = await readNewLogChunks(db, a.id, cursor)
      for (const c of read.chunks) out.write(c.text)
      cursor = read.cursor
      if (!opts.follow || (state !== 'queued' && state !== 'running')) break
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS))
      const now = await db.selectFrom('task_attempt').select(['state', 'reason']).where('id', '=', a.id).executeTakeFirstOrThrow()
      state = now.state
      // One more read after the attempt has finished: its last chunks are written before its outcome.
      if (state !== 'queued' && state !== 'running') {
        for (const c of (await readNewLogChunks(db, a.id, cursor)).chunks) out.write(c.text)
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

/** Creates the scheduled-style runs whose intervals start in [from, to); the scheduler then runs them in order. */
export async function backfill(ctx: CliContext, dagId: string, opts: { from: Date; to: Date; conf?: Record<string, unknown> }): Promise<number> {
  const created = await backfillDag(serviceOf(ctx), dagId, opts)
  for (const run of created) console.log(run.run_id)
  console.error(
    `${created.length} backfill run(s) created for ${dagId}; they stay ${RunState.Queued} until a scheduler runs them (max_active_runs applies)`,
  )
  return 0
}

/** `forge clear RUN_ID [--task ID] [--downstream]`: one line saying what changed. */
export async function clear(ctx: CliContext, runId: string, opts: { task?: string; downstream?: boolean }): Promise<number> {
  const r = await clearRun(serviceOf(ctx), runId, { taskId: opts.task, downstream: opts.downstream })
  const parts = [`${r.cleared} task instance(s) cleared`]
  if (r.removed) parts.push(`${r.removed} removed`)
  if (r.created) parts.push(`${r.created} created`)
  if (r.version) parts.push(`moved to the DAG's latest version`)
  console.log(`${runId}: ${parts.join(', ')}; the run is ${r.runState}`)
  return 0
}

/** `forge tasks mark RUN_ID TASK_ID --state success|failed [--map-index I]`. */
export async function tasksMark(ctx: CliContext, runId: string, taskId: string, opts: { state: MarkState; mapIndex?: number }): Promise<number> {
  const r = await markTask(serviceOf(ctx), runId, taskId, opts.state, opts.mapIndex)
  const name = `${taskId}${opts.mapIndex !== undefined && opts.mapIndex >= 0 ? `[${opts.mapIndex}]` : ''}`
  if (!r.changed) console.log(`${name} was ${opts.state} already`)
  else console.log(`${name} marked ${opts.state}${r.redecided.length ? `; decided again: ${r.redecided.join(', ')}` : ''}; the run is ${r.runState}`)
  return 0
}
