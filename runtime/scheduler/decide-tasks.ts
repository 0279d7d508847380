import { sql } from 'kysely'
import { decideRun, type TiView } from '../model/decide-run.ts'
import { RunState, TaskState } from '../model/states.ts'
import { allowedFrom } from '../model/transitions.ts'
import { taskOf } from '../dag/serialize.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db, Trx } from '../store/database.ts'
import { PREPARE } from '../store/prepared.ts'

export interface DecideResult {
  changed: number
  scheduled: number
  finishedRuns: Array<{ id: number; dag_id: string; run_id: string; state: RunState }>
  nextWakeAt: Date | null
  /** Runs decided here that wait for a retry, with when the first one falls due (the scheduler re-decides them then). */
  retryAt: Map<number, Date>
}

/**
 * Examines running runs: `dirty` ones (their tasks just changed) and, when `scan` is set, the least recently
 * examined others too. Each run row is locked with SKIP LOCKED, so two schedulers never decide the same run at
 * once (Airflow models/adr/0003: lock the run before its task instances). Runs in the caller's transaction.
 */
export async function decideIn(trx: Trx, dirty: Set<number>, now: Date, opts: { onlyRunPk?: number; scan?: boolean; limit?: number } = {}): Promise<DecideResult> {
  const limit = opts.limit ?? 20
  const result: DecideResult = { changed: 0, scheduled: 0, finishedRuns: [], nextWakeAt: null, retryAt: new Map() }
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
      ${order} limit ${limit}
      for update skip locked
    )
    select ti.id, ti.dag_run_id, ti.task_id, ti.map_index, ti.state, ti.run_after, r.dag_id, r.run_id, r.dag_version_id
    from r join task_instance ti on ti.dag_run_id = r.id`.execute(trx)
  for (const id of dirtyIds) dirty.delete(id)
  const runMap = new Map<number, { id: number; dag_id: string; run_id: string; dag_version_id: number }>()
  for (const row of rows.rows) if (!runMap.has(row.dag_run_id)) runMap.set(row.dag_run_id, { id: row.dag_run_id, dag_id: row.dag_id, run_id: row.run_id, dag_version_id: row.dag_version_id })
  const runs = [...runMap.values()]
  if (runs.length === 0) return result
  const tisByRun = new Map<number, TiView[]>()
  for (const t of rows.rows) {
    const list = tisByRun.get(t.dag_run_id)
    if (list) list.push(t)
    else tisByRun.set(t.dag_run_id, [t])
  }
  const updates: ReturnType<typeof decideRun>['updates'] = []
  for (const run of runs) {
    const dag = await getDagVersion(trx, run.dag_version_id)
    const d = decideRun(dag, tisByRun.get(run.id) ?? [], now)
    for (const e of d.expand) {
      const n = await expandMapped(trx, run.id, e.id, taskOf(dag, e.task_id)!.map_over)
      result.changed++
      result.scheduled += n
    }
    updates.push(...d.updates)
    result.scheduled += d.updates.filter((u) => u.to === TaskState.Scheduled).length
    if (d.nextWakeAt && (!result.nextWakeAt || d.nextWakeAt < result.nextWakeAt)) result.nextWakeAt = d.nextWakeAt
    if (d.nextWakeAt) result.retryAt.set(run.id, d.nextWakeAt)
    // Expansion added instances the decision did not see: look again next tick before finishing the run.
    if (d.runState !== RunState.Running && d.expand.length === 0) result.finishedRuns.push({ id: run.id, dag_id: run.dag_id, run_id: run.run_id, state: d.runState })
    if (d.expand.length > 0) dirty.add(run.id)
  }
  await applyUpdates(trx, updates)
  result.changed += updates.length
  // Only the scan orders by last_examined_at; a dirty-run pass need not pay for the write.
  if (opts.scan) await trx.updateTable('dag_run').set({ last_examined_at: now }).where('id', 'in', runs.map((r) => r.id)).execute()
  for (const f of result.finishedRuns) {
    await trx.updateTable('dag_run').set({ state: f.state, end_date: now }).where('id', '=', f.id).where('state', '=', RunState.Running).execute()
  }
  return result
}

/** decideIn in a transaction of its own, scanning stale runs too (tests and one-off callers). */
export async function decideTasks(db: Db, dirty: Set<number>, now: Date, onlyRunPk?: number): Promise<DecideResult> {
  return db.transaction().execute((trx) => decideIn(trx, dirty, now, { onlyRunPk, scan: true }))
}

/** Set-based: one prepared UPDATE per target state, guarded by the states the model allows it from. */
async function applyUpdates(trx: Trx, updates: ReturnType<typeof decideRun>['updates']): Promise<void> {
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

/**
 * Dynamic task mapping: one instance per element of the upstream list. The placeholder (-1) becomes index 0; an
 * empty list skips the task; a value that is not a list fails it with a message that says what arrived.
 */
async function expandMapped(trx: Trx, runId: number, tiId: number, mapOver: unknown): Promise<number> {
  const ref = (mapOver as { $ref: { task: string; path: string[] } }).$ref
  const rows = await trx
    .selectFrom('xcom')
    .select(['map_index', 'value'])
    .where('dag_run_id', '=', runId)
    .where('task_id', '=', ref.task)
    .orderBy('map_index')
    .execute()
  let value: unknown = rows.length === 1 && rows[0]!.map_index === -1 ? rows[0]!.value : rows.map((r) => r.value)
  for (const key of ref.path) value = value == null ? undefined : (value as Record<string, unknown>)[key]
  const ti = await trx.selectFrom('task_instance').selectAll().where('id', '=', tiId).executeTakeFirstOrThrow()
  if (!Array.isArray(value)) {
    const got = value === undefined ? 'nothing' : typeof value
    await trx
      .updateTable('task_instance')
      .set({ state: TaskState.Failed, end_date: sql`now()`, reason: `cannot map over ${[ref.task, ...ref.path].join('.')}: expected a list, got ${got}` })
      .where('id', '=', tiId)
      .where('state', 'is', null)
      .execute()
    return 0
  }
  if (value.length === 0) {
    await trx.updateTable('task_instance').set({ state: TaskState.Skipped, end_date: sql`now()`, reason: 'mapped over an empty list' }).where('id', '=', tiId).where('state', 'is', null).execute()
    return 0
  }
  await trx.updateTable('task_instance').set({ map_index: 0, state: TaskState.Scheduled }).where('id', '=', tiId).where('state', 'is', null).execute()
  if (value.length > 1) {
    const { id: _id, map_index: _m, state: _s, updated_at: _u, ...base } = ti
    await trx
      .insertInto('task_instance')
      .values(value.slice(1).map((_, i) => ({ ...base, map_index: i + 1, state: TaskState.Scheduled })))
      .execute()
  }
  return value.length
}
