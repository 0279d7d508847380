import { sql } from 'kysely'
import type { Db } from './database.ts'
import { ATTEMPT_LOCK_CLASS } from './attempt-lock.ts'
import { SCHEDULER_LOCK_CLASS } from './scheduler-lock.ts'

/** A queued or running attempt whose scheduler is gone. */
export interface OrphanRow {
  tiId: number
  tryNumber: number
  runPk: number
  attemptId: number
  /** 'queued': its runner never began; 'running': it began. */
  attemptState: string
  externalId: string | null
  claimedBy: string | null
  /** The executor its instance names (null: the default one). */
  executor: string | null
  /** Its runner still holds the attempt's lock. */
  runnerAlive: boolean
}

/**
 * Advisory locks are per database, and pg_locks shows every database's: hence the database filter.
 * Attempts queued or running under a scheduler other than those in `live` that no longer holds its liveness lock
 * (store/scheduler-lock.ts), with whether their runner is alive. On PGlite one process owns the store and `live`
 * lists its schedulers: every other attempt belongs to an owner that died, and so did its runners.
 */
export async function findOrphans(db: Db, live: string[], embedded: boolean): Promise<OrphanRow[]> {
  const lockHeld = (cls: number, key: ReturnType<typeof sql>) =>
    sql`exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.database = (select oid from pg_database where datname = current_database())
      and l.classid = ${cls}::int::oid and l.objid = ${key} and l.objsubid = 2 and l.granted)`
  const schedulerAlive = embedded ? sql`false` : lockHeld(SCHEDULER_LOCK_CLASS, sql`hashtext(ti.claimed_by)::oid`)
  const runnerAlive = embedded ? sql`false` : lockHeld(ATTEMPT_LOCK_CLASS, sql`a.id::oid`)
  const rows = await sql<OrphanRow>`
    select ti.id as "tiId", ti.try_number as "tryNumber", ti.dag_run_id as "runPk", a.id as "attemptId",
      a.state as "attemptState", a.executor_id as "externalId", ti.claimed_by as "claimedBy", ti.executor, ${runnerAlive} as "runnerAlive"
    from task_instance ti
    join task_attempt a on a.task_instance_id = ti.id and a.try_number = ti.try_number
    where ti.state in ('queued', 'running') and not (coalesce(ti.claimed_by, '') = any(${live}::text[])) and not ${schedulerAlive}
    limit 500`.execute(db)
  return rows.rows
}

/** Makes `selfId` the scheduler of orphans its executor adopted, so that the next pass does not find them again. */
export async function takeOver(db: Db, rows: OrphanRow[], selfId: string): Promise<void> {
  if (rows.length === 0) return
  await db
    .updateTable('task_instance')
    .set({ claimed_by: selfId, last_heartbeat_at: sql`now()` })
    .where(
      'id',
      'in',
      rows.map((r) => r.tiId),
    )
    .where('state', 'in', ['queued', 'running'])
    .execute()
}
