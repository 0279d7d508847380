import { sql } from 'kysely'
import { DEFAULT_MAX_MAP_WIDTH } from '../config.ts'
import { decideRun, type RunDecision, type TiView } from '../model/decide-run.ts'
import { RunState, TaskState } from '../model/states.ts'
import { allowedFrom } from '../model/transitions.ts'
import { taskOf } from '../dag/serialize.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db, Trx } from '../store/database.ts'
import { PREPARE } from '../store/prepared.ts'
import { expandMapped } from './expand-mapped.ts'
import { decideFailureReason, failRunIn, isRunsOwnFault } from './fail-run.ts'

export interface DecideResult {
  changed: number
  scheduled: number
  finishedRuns: Array<{ id: number; dag_id: string; run_id: string; state: RunState }>
  /** Runs decided here that wait for a retry, each with when its first retry falls due (the scheduler re-decides it then). */
  retryAt: Map<number, Date>
}

export interface DecideOptions {
  onlyRunPk?: number
  scan?: boolean
  limit?: number
  /** Longest list a mapped task may expand over (FORGE_MAX_MAP_WIDTH). */
  maxMapWidth?: number
  /**
   * Decide each run in a savepoint of its own and fail a run whose decision throws, recording why. The scheduler
   * sets it to retry a pass that failed; the regular pass needs no extra round trips.
   */
  isolate?: boolean
}

type Run = { id: number; dag_id: string; run_id: string; dag_version_id: number }
type Updates = RunDecision['updates']
type Decided = { run: Run; d: RunDecision; scheduled: number; failRun?: string }

/**
 * Examines running runs: `dirty` ones (their tasks just changed) and, when `scan` is set, the least recently
 * examined others too. Each run row is locked with SKIP LOCKED, so two schedulers never decide the same run at
 * once (Airflow models/adr/0003: lock the run before its task instances). A paused DAG's runs are not decided, so
 * they schedule no new tasks until it is unpaused, as in Airflow. Runs in the caller's transaction.
 */
export async function decideIn(trx: Trx, dirty: Set<number>, now: Date, opts: DecideOptions = {}): Promise<DecideResult> {
  const limit = opts.limit ?? 20
  const result: DecideResult = { changed: 0, scheduled: 0, finishedRuns: [], retryAt: new Map() }
  const dirtyIds = [...dirty].slice(0, limit)
  if (dirtyIds.length === 0 && !opts.scan) return result
  // Lock the runs and read their instances in one statement (a round trip saved on every chain edge).
  const staleBefore = new Date(now.getTime() - 1000)
  const onlyRun = opts.onlyRunPk === undefined ? sql`` : sql`and r.id = ${opts.onlyRunPk}`
  const pick = opts.scan
    ? sql`(r.id = any(${dirtyIds}) or r.last_examined_at is null or r.last_examined_at < ${staleBefore})`
    : sql`r.id = any(${dirtyIds})`
  const order = opts.scan ? sql`order by r.id = any(${dirtyIds}) desc, r.last_examined_at nulls first, r.id` : sql`order by r.id`
  const rows = await sql<TiView & { dag_run_id: number; dag_id: string; run_id: string; dag_version_id: number }>`${sql.raw(PREPARE)}
    with r as (
      select r.id, r.dag_id, r.run_id, r.dag_version_id from dag_run r
      where r.state = 'running' and ${pick} ${onlyRun}
        and not exists (select 1 from dag d where d.dag_id = r.dag_id and d.is_paused)
      ${order} limit ${limit}
      for update skip locked
    )
    select ti.id, ti.dag_run_id, ti.task_id, ti.map_index, ti.state, ti.run_after, r.dag_id, r.run_id, r.dag_version_id
    from r join task_instance ti on ti.dag_run_id = r.id`.execute(trx)
  for (const id of dirtyIds) dirty.delete(id)
  const runMap = new Map<number, Run>()
  for (const row of rows.rows)
    if (!runMap.has(row.dag_run_id))
      runMap.set(row.dag_run_id, { id: row.dag_run_id, dag_id: row.dag_id, run_id: row.run_id, dag_version_id: row.dag_version_id })
  const runs = [...runMap.values()]
  if (runs.length === 0) return result
  const tisByRun = new Map<number, TiView[]>()
  for (const t of rows.rows) {
    const list = tisByRun.get(t.dag_run_id)
    if (list) list.push(t)
    else tisByRun.set(t.dag_run_id, [t])
  }
  const maxWidth = opts.maxMapWidth ?? DEFAULT_MAX_MAP_WIDTH
  const updates: Updates = []
  const decided: Decided[] = []
  for (const run of runs) {
    const tis = tisByRun.get(run.id) ?? []
    if (!opts.isolate) {
      const one = await decideOne(trx, run, tis, now, maxWidth)
      if (!one.failRun) updates.push(...one.d.updates)
      decided.push(one)
      continue
    }
    await sql`savepoint forge_decide_run`.execute(trx)
    try {
      const one = await decideOne(trx, run, tis, now, maxWidth)
      if (!one.failRun) await applyUpdates(trx, one.d.updates)
      await sql`release savepoint forge_decide_run`.execute(trx)
      decided.push(one)
    } catch (err) {
      if (!isRunsOwnFault(err)) throw err
      await sql`rollback to savepoint forge_decide_run`.execute(trx)
      decided.push({
        run,
        d: { updates: [], expand: [], runState: RunState.Running, nextWakeAt: null },
        scheduled: 0,
        failRun: decideFailureReason(err),
      })
    }
  }
  await applyUpdates(trx, updates)
  for (const { run, d, scheduled, failRun } of decided) {
    if (failRun) {
      if (await failRunIn(trx, run.id, failRun))
        result.finishedRuns.push({ id: run.id, dag_id: run.dag_id, run_id: run.run_id, state: RunState.Failed })
      result.changed++
      continue
    }
    result.changed += d.expand.length + d.updates.length
    result.scheduled += scheduled + d.updates.filter((u) => u.to === TaskState.Scheduled).length
    if (d.nextWakeAt) result.retryAt.set(run.id, d.nextWakeAt)
    // Expansion added instances the decision did not see: look again next tick before finishing the run.
    if (d.runState !== RunState.Running && d.expand.length === 0)
      result.finishedRuns.push({ id: run.id, dag_id: run.dag_id, run_id: run.run_id, state: d.runState })
    if (d.expand.length > 0) dirty.add(run.id)
  }
  // Only the scan orders by last_examined_at; a dirty-run pass need not pay for the write.
  if (opts.scan)
    await trx
      .updateTable('dag_run')
      .set({ last_examined_at: now })
      .where(
        'id',
        'in',
        runs.map((r) => r.id),
      )
      .execute()
  for (const f of result.finishedRuns) {
    await trx.updateTable('dag_run').set({ state: f.state, end_date: now }).where('id', '=', f.id).where('state', '=', RunState.Running).execute()
  }
  return result
}

/** decideIn in a transaction of its own, scanning stale runs too (tests and one-off callers). */
export async function decideTasks(db: Db, dirty: Set<number>, now: Date, onlyRunPk?: number, opts: DecideOptions = {}): Promise<DecideResult> {
  return db.transaction().execute((trx) => decideIn(trx, dirty, now, { onlyRunPk, scan: true, ...opts }))
}

/** One run's decision and its mapped expansions; the caller applies the updates. */
async function decideOne(trx: Trx, run: Run, tis: TiView[], now: Date, maxWidth: number): Promise<Decided> {
  const dag = await getDagVersion(trx, run.dag_version_id)
  const d = decideRun(dag, tis, now)
  let scheduled = 0
  for (const e of d.expand) {
    const x = await expandMapped(trx, run.id, e.id, taskOf(dag, e.task_id)!.map_over, maxWidth)
    if (x.failRun) return { run, d, scheduled: 0, failRun: x.failRun }
    scheduled += x.scheduled
  }
  return { run, d, scheduled }
}

/** Set-based: one prepared UPDATE per target state, guarded by the states the model allows it from. */
async function applyUpdates(trx: Trx, updates: Updates): Promise<void> {
  const groups = new Map<string, typeof updates>()
  for (const u of updates) {
    const k = `${u.to}|${u.reason ?? ''}`
    const group = groups.get(k)
    if (group) group.push(u)
    else groups.set(k, [u])
  }
  for (const group of groups.values()) {
    const { to, reason } = group[0]!
    const from = allowedFrom(to)
    const fromStates = from.filter((s): s is TaskState => s !== null)
    await sql`${sql.raw(PREPARE)}
      update task_instance set state = ${to}, updated_at = now(), reason = coalesce(${reason ?? null}::text, reason),
        end_date = case when ${to}::text = 'scheduled' then end_date else now() end
      where id = any(${group.map((u) => u.id)}::int[])
        and (state = any(${fromStates}::text[]) or (${from.includes(null)}::boolean and state is null))`.execute(trx)
  }
}
