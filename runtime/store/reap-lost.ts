import { sql } from 'kysely'
import { retryDelayMs, shouldRetry } from '../model/retry.ts'
import { TaskState } from '../model/states.ts'
import { taskOf } from '../dag/serialize.ts'
import { getDagVersion } from './dag.repo.ts'
import type { Db } from './database.ts'

/**
 * Finds attempts whose heartbeat stopped (the scheduler running them was killed or lost its database) and ends
 * them: up_for_retry with backoff if tries remain, failed otherwise, with the reason recorded on the instance and
 * the attempt. SKIP LOCKED lets every live scheduler reap without two reaping the same row.
 * Heartbeats are stamped with the database's clock, so their age is measured on it too: a scheduler whose clock
 * runs ahead must not reap attempts heartbeated a moment ago. `now` (this scheduler's clock) only sets run_after,
 * which the deciding scheduler compares with its own clock, as it does for a retry recorded with a result.
 */
export async function reapLostAttempts(db: Db, heartbeatTimeoutMs: number, now: Date = new Date()): Promise<Set<number>> {
  const runs = new Set<number>()
  await db.transaction().execute(async (trx) => {
    const lost = await trx
      .selectFrom('task_instance as ti')
      .innerJoin('dag_run as r', 'r.id', 'ti.dag_run_id')
      .select(['ti.id', 'ti.try_number', 'ti.max_tries', 'ti.task_id', 'ti.claimed_by', 'ti.dag_run_id', 'r.dag_version_id'])
      .where('ti.state', 'in', [TaskState.Queued, TaskState.Running])
      .where('ti.last_heartbeat_at', '<', sql<Date>`now() - ${heartbeatTimeoutMs}::float8 * interval '1 millisecond'`)
      .limit(500)
      .forUpdate('ti')
      .skipLocked()
      .execute()
    for (const ti of lost) {
      const dag = await getDagVersion(trx, ti.dag_version_id)
      const task = taskOf(dag, ti.task_id)!
      const retry = shouldRetry(ti.try_number, ti.max_tries, false)
      const reason = `heartbeat lost: scheduler ${ti.claimed_by} stopped reporting for over ${Math.round(heartbeatTimeoutMs / 1000)}s (its process probably died)`
      await trx
        .updateTable('task_instance')
        .set({
          state: retry ? TaskState.UpForRetry : TaskState.Failed,
          reason: retry ? `${reason}; retrying (attempt ${ti.try_number} of ${ti.max_tries})` : reason,
          run_after: retry ? new Date(now.getTime() + retryDelayMs(task, ti.try_number)) : null,
          end_date: sql`now()`,
          updated_at: sql`now()`,
        })
        .where('id', '=', ti.id)
        .where('try_number', '=', ti.try_number)
        .execute()
      await trx
        .updateTable('task_attempt')
        .set({ state: TaskState.Failed, reason, end_date: sql`now()` })
        .where('task_instance_id', '=', ti.id)
        .where('try_number', '=', ti.try_number)
        .execute()
      runs.add(ti.dag_run_id)
    }
  })
  return runs
}
