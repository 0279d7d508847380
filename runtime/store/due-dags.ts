import { sql } from 'kysely'
import { RunState, RunType } from '../model/states.ts'
import type { DagRow, Db, Trx } from './database.ts'

/**
 * The DAGs whose next scheduled run is due, locked with SKIP LOCKED so that concurrent schedulers split the work
 * (the partial unique index on (dag_id, logical_date) makes a duplicate impossible even so).
 */
export async function lockDueDags(trx: Trx, now: Date, limit = 10): Promise<DagRow[]> {
  return trx
    .selectFrom('dag')
    .selectAll()
    .where('is_active', '=', true)
    .where('is_paused', '=', false)
    .where('schedule', 'is not', null)
    .where('latest_version_id', 'is not', null)
    .where('next_dagrun_create_after', '<=', now)
    .orderBy('next_dagrun_create_after')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute()
}

/** Queued or running runs of one DAG, which max_active_runs caps. */
export async function countActiveRunsOf(trx: Db | Trx, dagId: string): Promise<number> {
  const active = await trx
    .selectFrom('dag_run')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('dag_id', '=', dagId)
    .where('state', 'in', [RunState.Queued, RunState.Running])
    .executeTakeFirstOrThrow()
  return Number(active.n)
}

/** The end of the data interval of the DAG's latest scheduled or backfill run, or null. */
export async function lastScheduledEnd(db: Db | Trx, dagId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('dag_run')
    .select('data_interval_end')
    .where('dag_id', '=', dagId)
    .where('run_type', 'in', [RunType.Scheduled, RunType.Backfill])
    .orderBy('logical_date', 'desc')
    .executeTakeFirst()
  return row?.data_interval_end ?? null
}

/** Records the next interval to create (null: none), which makes the DAG due again once it has ended. */
export async function setNextDagrun(trx: Trx, dagId: string, interval: { start: Date; end: Date } | null): Promise<void> {
  await trx
    .updateTable('dag')
    .set({ next_dagrun: interval?.start ?? null, next_dagrun_create_after: interval?.end ?? null })
    .where('dag_id', '=', dagId)
    .execute()
}
