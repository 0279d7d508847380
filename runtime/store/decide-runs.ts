import { sql } from 'kysely'
import type { TiView } from '../model/decide-run.ts'
import { RunState } from '../model/states.ts'
import type { Trx } from './database.ts'
import { PREPARE } from './prepared.ts'

/** A task instance of a run being decided, with its run's identity. */
export type DecideRow = TiView & { dag_run_id: number; dag_id: string; run_id: string; dag_version_id: number }

/**
 * Locks the running runs to decide (`dirtyIds`, and with `scan` the least recently examined others too) with SKIP
 * LOCKED and reads their instances, in one statement (a round trip saved on every chain edge). A paused DAG's
 * runs are left alone.
 */
export async function lockRunsToDecide(
  trx: Trx,
  o: { dirtyIds: number[]; scan: boolean; onlyRunPk?: number; limit: number; now: Date },
): Promise<DecideRow[]> {
  const { dirtyIds, limit } = o
  const staleBefore = new Date(o.now.getTime() - 1000)
  const onlyRun = o.onlyRunPk === undefined ? sql`` : sql`and r.id = ${o.onlyRunPk}`
  const pick = o.scan
    ? sql`(r.id = any(${dirtyIds}) or r.last_examined_at is null or r.last_examined_at < ${staleBefore})`
    : sql`r.id = any(${dirtyIds})`
  const order = o.scan ? sql`order by r.id = any(${dirtyIds}) desc, r.last_examined_at nulls first, r.id` : sql`order by r.id`
  const rows = await sql<DecideRow>`${sql.raw(PREPARE)}
    with r as (
      select r.id, r.dag_id, r.run_id, r.dag_version_id from dag_run r
      where r.state = 'running' and ${pick} ${onlyRun}
        and not exists (select 1 from dag d where d.dag_id = r.dag_id and d.is_paused)
      ${order} limit ${limit}
      for update skip locked
    )
    select ti.id, ti.dag_run_id, ti.task_id, ti.map_index, ti.state, ti.run_after, r.dag_id, r.run_id, r.dag_version_id
    from r join task_instance ti on ti.dag_run_id = r.id`.execute(trx)
  return rows.rows
}

/** Stamps the runs a scan examined, so the next scan starts with the others. */
export async function markRunsExamined(trx: Trx, runPks: number[], now: Date): Promise<void> {
  await trx.updateTable('dag_run').set({ last_examined_at: now }).where('id', 'in', runPks).execute()
}

/** Ends the runs a decision finished, guarded on their still running. */
export async function endDecidedRuns(trx: Trx, finished: Array<{ id: number; state: RunState }>, now: Date): Promise<void> {
  for (const f of finished) {
    await trx.updateTable('dag_run').set({ state: f.state, end_date: now }).where('id', '=', f.id).where('state', '=', RunState.Running).execute()
  }
}
