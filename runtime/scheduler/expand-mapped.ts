import { sql } from 'kysely'
import { TaskState } from '../model/states.ts'
import type { Trx } from '../store/database.ts'

/** What an expansion did: instances now scheduled, or the reason the whole run must fail. */
export type Expansion = { scheduled: number; failRun?: undefined } | { scheduled: 0; failRun: string }

/**
 * Dynamic task mapping: one instance per element of the upstream list. The placeholder (-1) becomes index 0; an
 * empty list skips the task; a value that is not a list fails it with a message that says what arrived; a list
 * longer than `maxWidth` fails the task and asks the caller to fail the run. The copies are made by one
 * `insert … select … generate_series`, whatever the width: a row of bind parameters per instance ran past
 * Postgres's 65,535 parameters at about 4,000 instances.
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
    trx.updateTable('task_instance').set({ state: TaskState.Failed, end_date: sql`now()`, reason }).where('id', '=', tiId).where('state', 'is', null).execute()
  if (!Array.isArray(value)) {
    await fail(`cannot map over ${source}: expected a list, got ${value === undefined ? 'nothing' : typeof value}`)
    return { scheduled: 0 }
  }
  if (value.length > maxWidth) {
    const reason = `cannot map over ${source}: ${value.length} items, more than the limit of ${maxWidth} (FORGE_MAX_MAP_WIDTH)`
    await fail(reason)
    return { scheduled: 0, failRun: reason }
  }
  if (value.length === 0) {
    await trx.updateTable('task_instance').set({ state: TaskState.Skipped, end_date: sql`now()`, reason: 'mapped over an empty list' }).where('id', '=', tiId).where('state', 'is', null).execute()
    return { scheduled: 0 }
  }
  const placed = await trx.updateTable('task_instance').set({ map_index: 0, state: TaskState.Scheduled }).where('id', '=', tiId).where('state', 'is', null).executeTakeFirst()
  // Another pass expanded it first (the run row lock makes this unlikely): never insert the copies twice.
  if (Number(placed.numUpdatedRows) === 0) return { scheduled: 0 }
  if (value.length > 1) {
    await sql`
      insert into task_instance (dag_run_id, dag_id, run_id, task_id, map_index, state, try_number, max_tries, run_after,
        pool, pool_slots, priority_weight, claimed_by, last_heartbeat_at, start_date, end_date, executor_id, reason,
        infra_failures, max_infra_retries, executor, executor_config)
      select ti.dag_run_id, ti.dag_id, ti.run_id, ti.task_id, g.i, ${TaskState.Scheduled}, ti.try_number, ti.max_tries, ti.run_after,
        ti.pool, ti.pool_slots, ti.priority_weight, ti.claimed_by, ti.last_heartbeat_at, ti.start_date, ti.end_date, ti.executor_id, ti.reason,
        ti.infra_failures, ti.max_infra_retries, ti.executor, ti.executor_config
      from task_instance ti, generate_series(1, ${value.length - 1}::int) as g(i)
      where ti.id = ${tiId}`.execute(trx)
  }
  return { scheduled: value.length }
}
