import { sql } from 'kysely'
import type { Db } from './database.ts'

/** Which attempt a runner's write is about: its row and the instance's try it belongs to. */
export interface AttemptKey {
  attemptId: number
  tiId: number
  tryNumber: number
}

/**
 * A runner takes up its attempt: the instance goes queued -> running (it may be running already, marked by the
 * executor that started the runner), and the attempt row records the runner and the executor's id for it. Under
 * the attempt's guard; false when the attempt is no longer current (finished, or the instance moved on).
 */
export async function beginAttempt(db: Db, key: AttemptKey, runnerId: string, executorId: string | null): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const current = await sql<{ state: string }>`
      select ti.state from task_instance ti
      where ti.id = ${key.tiId} and ti.try_number = ${key.tryNumber} and ti.state in ('queued', 'running')
        and exists (select 1 from task_attempt g where g.id = ${key.attemptId} and g.state in ('queued', 'running'))
      for update`.execute(trx)
    if (current.rows.length === 0) return false
    // Only a real change: the transition table has no running -> running.
    if (current.rows[0]!.state === 'queued') {
      await sql`update task_instance set state = 'running', executor_id = coalesce(${executorId}, executor_id),
        last_heartbeat_at = now(), updated_at = now() where id = ${key.tiId}`.execute(trx)
    } else {
      await sql`update task_instance set last_heartbeat_at = now(), executor_id = coalesce(${executorId}, executor_id)
        where id = ${key.tiId}`.execute(trx)
    }
    await sql`update task_attempt set state = 'running', runner_id = ${runnerId},
      executor_id = coalesce(${executorId}, executor_id), last_heartbeat_at = now() where id = ${key.attemptId}`.execute(trx)
    return true
  })
}
