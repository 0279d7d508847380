import { sql } from 'kysely'
import type { Db } from './database.ts'

/** Moves queued runs to running while their DAG is under max_active_runs (manual and backfill runs wait here). */
export async function startQueuedRuns(db: Db): Promise<number> {
  return db.transaction().execute(async (trx) => {
    // Lock the DAG rows first: two schedulers counting running runs at once could both promote past the cap.
    const locked = await sql<{ dag_id: string }>`
      select dag_id from dag where dag_id in (select distinct dag_id from dag_run where state = 'queued')
      order by dag_id for update skip locked`.execute(trx)
    if (locked.rows.length === 0) return 0
    const dagIds = locked.rows.map((r) => r.dag_id)
    const result = await sql<{ id: number }>`
    with ranked as (
      select r.id, d.max_active_runs,
             (select count(*) from dag_run x where x.dag_id = r.dag_id and x.state = 'running') as running,
             row_number() over (partition by r.dag_id order by r.logical_date, r.id) as rn
      from dag_run r join dag d on d.dag_id = r.dag_id
      where r.state = 'queued' and not d.is_paused and r.dag_id = any(${dagIds})
    )
    update dag_run set state = 'running', start_date = now()
    from ranked
    where dag_run.id = ranked.id and ranked.running + ranked.rn <= ranked.max_active_runs and dag_run.state = 'queued'
    returning dag_run.id`.execute(trx)
    return result.rows.length
  })
}
