import { sql } from 'kysely'
import type { SerializedTask } from '../dag/serialize.ts'
import { RunState, TaskState } from '../model/states.ts'
import type { DagRunRow, Trx } from './database.ts'
import { stateGuard } from './state-guard.ts'

/**
 * The statements of a clear (service/clear.ts), in the caller's transaction, after it has locked the run and its
 * instances. Cleared instances keep their id, try number and attempts; the next claim makes try N+1.
 */

/** Locks a run and its instances, waiting for a deciding or recording scheduler to commit (run first: models/adr/0003). */
export async function lockRunForChange(
  trx: Trx,
  runPk: number,
): Promise<{ run: DagRunRow; tis: Array<{ id: number; task_id: string; map_index: number; state: TaskState | null; try_number: number }> }> {
  const run = await trx.selectFrom('dag_run').selectAll().where('id', '=', runPk).forUpdate().executeTakeFirstOrThrow()
  const tis = await trx
    .selectFrom('task_instance')
    .select(['id', 'task_id', 'map_index', 'state', 'try_number'])
    .where('dag_run_id', '=', runPk)
    .orderBy('id')
    .forUpdate()
    .execute()
  return { run, tis }
}

/**
 * Back to none with the task's current settings: a full budget of tries from here (Airflow's max_tries = try_number
 * + retries), its pool, priority and executor; `map_index` -1 where the instance becomes its task's placeholder again. The
 * result (XCom) of a cleared instance goes too: a downstream must not read what the next try may not return.
 */
export async function clearInstancesIn(trx: Trx, rows: Array<{ id: number; mapIndex: number; task: SerializedTask }>): Promise<number> {
  if (rows.length === 0) return 0
  const values = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      map_index: r.mapIndex,
      tries: r.task.retries + 1,
      pool: r.task.pool,
      pool_slots: r.task.pool_slots,
      priority: r.task.priority,
      executor: r.task.executor ?? null,
      executor_config: r.task.executor_config ?? {},
    })),
  )
  const ids = rows.map((r) => r.id)
  await trx.deleteFrom('xcom').where('task_instance_id', 'in', ids).execute()
  const done = await sql`
    update task_instance ti set state = null, map_index = v.map_index, max_tries = ti.try_number + v.tries, pool = v.pool,
      pool_slots = v.pool_slots, priority_weight = v.priority, executor = v.executor, executor_config = v.executor_config, run_after = null, claimed_by = null, last_heartbeat_at = null,
      start_date = null, end_date = null, executor_id = null, reason = null, updated_at = now()
    from json_to_recordset(${values}::json)
      as v(id int, map_index int, tries int, pool text, pool_slots int, priority int, executor text, executor_config jsonb)
    where ti.id = v.id and ${stateGuard(null, 'ti.state')}`.execute(trx)
  return Number(done.numAffectedRows ?? 0)
}

/** Instances the run's DAG version no longer has a place for become removed, each with why. */
export async function removeInstancesIn(trx: Trx, rows: Array<{ id: number; reason: string }>): Promise<number> {
  if (rows.length === 0) return 0
  const values = JSON.stringify(rows)
  await trx
    .deleteFrom('xcom')
    .where(
      'task_instance_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute()
  const done = await sql`
    update task_instance ti set state = ${TaskState.Removed}, reason = v.reason, end_date = now(), updated_at = now()
    from json_to_recordset(${values}::json) as v(id int, reason text)
    where ti.id = v.id and ${stateGuard(TaskState.Removed, 'ti.state')}`.execute(trx)
  return Number(done.numAffectedRows ?? 0)
}

/**
 * Puts a changed run back to be decided: onto `versionId` (the DAG's latest version), and a finished run back to
 * queued, so that max_active_runs and pausing apply to it as to a new run. Wakes the schedulers.
 */
export async function reopenRunIn(trx: Trx, runPk: number, versionId: number): Promise<RunState> {
  const row = await trx
    .updateTable('dag_run')
    .set({
      dag_version_id: versionId,
      state: sql`case when state in (${RunState.Success}, ${RunState.Failed}) then ${RunState.Queued} else state end`,
      start_date: sql`case when state in (${RunState.Success}, ${RunState.Failed}) then null else start_date end`,
      end_date: null,
      reason: null,
      last_examined_at: null,
    })
    .where('id', '=', runPk)
    .returning('state')
    .executeTakeFirstOrThrow()
  await sql`select pg_notify('forge', ${`run:${runPk}`})`.execute(trx)
  return row.state
}
