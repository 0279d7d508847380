import { sql } from 'kysely'
import { TaskState } from '../model/states.ts'
import type { Trx } from './database.ts'

/** What an expansion did: instances now scheduled, or the reason the whole run must fail. */
export type Expansion = { scheduled: number; failRun?: undefined } | { scheduled: 0; failRun: string }

/**
 * Dynamic task mapping: one instance per element of the upstream list. The placeholder (-1) becomes index 0; an
 * empty list skips the task; a value that is not a list fails it with a message that says what arrived; a list
 * longer than `maxWidth` fails the task and asks the caller to fail the run. The copies are made by one
 * `insert … select … generate_series`, whatever the width: a row of bind parameters per instance ran past
 * Postgres's 65,535 parameters at about 4,000 instances. After a clear the task's instances of an earlier expansion
 * are still there, undecided: those the new list reaches are scheduled again (keeping their attempts), the others
 * are removed.
 */
export async function expandMapped(trx: Trx, runId: number, tiId: number, mapOver: unknown, maxWidth: number): Promise<Expansion> {
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
  const source = [ref.task, ...ref.path].join('.')
  const fail = (reason: string) =>
    trx
      .updateTable('task_instance')
      .set({ state: TaskState.Failed, end_date: sql`now()`, reason })
      .where('id', '=', tiId)
      .where('state', 'is', null)
      .execute()
  if (!Array.isArray(value)) {
    await fail(`cannot map over ${source}: expected a list, got ${value === undefined ? 'nothing' : typeof value}`)
    await removeBeyond(trx, tiId, 0)
    return { scheduled: 0 }
  }
  if (value.length > maxWidth) {
    const reason = `cannot map over ${source}: ${value.length} items, more than the limit of ${maxWidth} (FORGE_MAX_MAP_WIDTH)`
    await fail(reason)
    return { scheduled: 0, failRun: reason }
  }
  if (value.length === 0) {
    await trx
      .updateTable('task_instance')
      .set({ state: TaskState.Skipped, end_date: sql`now()`, reason: 'mapped over an empty list' })
      .where('id', '=', tiId)
      .where('state', 'is', null)
      .execute()
    await removeBeyond(trx, tiId, 0)
    return { scheduled: 0 }
  }
  const placed = await trx
    .updateTable('task_instance')
    .set({ map_index: 0, state: TaskState.Scheduled })
    .where('id', '=', tiId)
    .where('state', 'is', null)
    .executeTakeFirst()
  // Another pass expanded it first (the run row lock makes this unlikely): never insert the copies twice.
  if (Number(placed.numUpdatedRows) === 0) return { scheduled: 0 }
  if (value.length > 1) {
    // New copies start beyond the undecided instances an earlier expansion left (none unless the task was cleared),
    // at try 0 with the placeholder's budget of tries; then those leftovers the list reaches are scheduled again.
    await sql`
      insert into task_instance (dag_run_id, dag_id, run_id, task_id, map_index, state, try_number, max_tries, run_after,
        pool, pool_slots, priority_weight, claimed_by, last_heartbeat_at, start_date, end_date, executor_id, reason,
        infra_failures, max_infra_retries, executor, executor_config)
      select ti.dag_run_id, ti.dag_id, ti.run_id, ti.task_id, g.i, ${TaskState.Scheduled}, 0, ti.max_tries - ti.try_number, ti.run_after,
        ti.pool, ti.pool_slots, ti.priority_weight, ti.claimed_by, ti.last_heartbeat_at, ti.start_date, ti.end_date, ti.executor_id, ti.reason,
        0, ti.max_infra_retries, ti.executor, ti.executor_config
      from task_instance ti, generate_series(
        (select coalesce(max(x.map_index), 0) + 1 from task_instance x
         where x.dag_run_id = ti.dag_run_id and x.task_id = ti.task_id and x.map_index >= 1 and x.state is null),
        ${value.length - 1}::int) as g(i)
      where ti.id = ${tiId}`.execute(trx)
    await sql`
      update task_instance x set state = ${TaskState.Scheduled}, updated_at = now()
      from task_instance ti
      where ti.id = ${tiId} and x.dag_run_id = ti.dag_run_id and x.task_id = ti.task_id
        and x.map_index between 1 and ${value.length - 1}::int and x.state is null`.execute(trx)
  }
  await removeBeyond(trx, tiId, value.length)
  return { scheduled: value.length }
}

/** The undecided instances of an earlier expansion at `from` or beyond, which this list does not reach, become removed. */
async function removeBeyond(trx: Trx, tiId: number, from: number): Promise<void> {
  await sql`
    update task_instance x set state = ${TaskState.Removed}, end_date = now(), updated_at = now(),
      reason = 'removed: the mapped list is shorter than when this instance was made'
    from task_instance ti
    where ti.id = ${tiId} and x.dag_run_id = ti.dag_run_id and x.task_id = ti.task_id
      and x.map_index >= ${from}::int and x.id <> ti.id and x.state is null`.execute(trx)
}
