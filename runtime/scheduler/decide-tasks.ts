import { sql } from 'kysely'
import { decideRun } from '../model/decide-run.ts'
import { RunState, TaskState } from '../model/states.ts'
import { allowedFrom } from '../model/transitions.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db, Trx } from '../store/database.ts'

export interface DecideResult {
  changed: number
  scheduled: number
  finishedRuns: Array<{ id: number; dag_id: string; run_id: string; state: RunState }>
  nextWakeAt: Date | null
}

/**
 * Examines running runs: `dirty` ones first (their tasks just changed), then the least recently examined. Each run
 * row is locked with SKIP LOCKED, so two schedulers never decide the same run at once (Airflow models/adr/0003:
 * lock the run before its task instances).
 */
export async function decideTasks(db: Db, dirty: Set<number>, now: Date, onlyRunPk?: number, limit = 20): Promise<DecideResult> {
  const result: DecideResult = { changed: 0, scheduled: 0, finishedRuns: [], nextWakeAt: null }
  const dirtyIds = [...dirty].slice(0, limit)
  await db.transaction().execute(async (trx) => {
    const runs = await trx
      .selectFrom('dag_run')
      .select(['id', 'dag_id', 'run_id', 'dag_version_id'])
      .where('state', '=', RunState.Running)
      .$if(onlyRunPk !== undefined, (q) => q.where('id', '=', onlyRunPk!))
      .where((eb) =>
        eb.or([
          eb('id', 'in', dirtyIds.length ? dirtyIds : [-1]),
          eb('last_examined_at', 'is', null),
          eb('last_examined_at', '<', new Date(now.getTime() - 1000)),
        ]),
      )
      .orderBy(sql`id = any(${dirtyIds})`, 'desc')
      .orderBy(sql`last_examined_at nulls first`)
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute()
    for (const run of runs) {
      dirty.delete(run.id)
      const dag = await getDagVersion(trx, run.dag_version_id)
      const tis = await trx
        .selectFrom('task_instance')
        .select(['id', 'task_id', 'map_index', 'state', 'run_after'])
        .where('dag_run_id', '=', run.id)
        .execute()
      const d = decideRun(dag, tis, now)
      for (const e of d.expand) {
        const n = await expandMapped(trx, run.id, e.id, dag.tasks.find((t) => t.task_id === e.task_id)!.map_over)
        result.changed++
        if (n > 0) result.scheduled += n
      }
      await applyUpdates(trx, d.updates)
      result.changed += d.updates.length
      result.scheduled += d.updates.filter((u) => u.to === TaskState.Scheduled).length
      if (d.nextWakeAt && (!result.nextWakeAt || d.nextWakeAt < result.nextWakeAt)) result.nextWakeAt = d.nextWakeAt
      // Expansion added instances the decision did not see: look again next tick before finishing the run.
      const finished = d.runState !== RunState.Running && d.expand.length === 0
      await trx
        .updateTable('dag_run')
        .set({ last_examined_at: now, ...(finished ? { state: d.runState, end_date: now } : {}) })
        .where('id', '=', run.id)
        .execute()
      if (finished) result.finishedRuns.push({ id: run.id, dag_id: run.dag_id, run_id: run.run_id, state: d.runState })
      if (d.expand.length > 0) dirty.add(run.id)
    }
    if (result.scheduled > 0 || result.finishedRuns.length > 0) await sql`select pg_notify('forge', 'scheduled')`.execute(trx)
  })
  return result
}

/** Set-based: one UPDATE per target state, guarded by the states the model allows it from. */
async function applyUpdates(trx: Trx, updates: ReturnType<typeof decideRun>['updates']): Promise<void> {
  const groups = new Map<string, typeof updates>()
  for (const u of updates) {
    const k = `${u.to}|${u.reason ?? ''}`
    groups.set(k, [...(groups.get(k) ?? []), u])
  }
  for (const group of groups.values()) {
    const { to, reason } = group[0]!
    const from = allowedFrom(to)
    const fromStates = from.filter((s): s is TaskState => s !== null)
    await trx
      .updateTable('task_instance')
      .set({
        state: to,
        updated_at: sql`now()`,
        ...(reason ? { reason } : {}),
        ...(to !== TaskState.Scheduled ? { end_date: sql`now()` } : {}),
      })
      .where('id', 'in', group.map((u) => u.id))
      .where((eb) => eb.or([eb('state', 'in', fromStates.length ? fromStates : ['__none__' as TaskState]), ...(from.includes(null) ? [eb('state', 'is', null)] : [])]))
      .execute()
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
