import { CompiledQuery, sql } from 'kysely'
import type { Db } from './database.ts'
import { APPEND_LOGS } from './attempt-record-sql.ts'
import type { AttemptKey } from './attempt-begin.ts'

/**
 * Heartbeats the attempts a scheduler runs itself (worker threads), in one statement, and appends their new log
 * output as chunks. Only the instances it actually runs: one it claimed but failed to start (the database failed
 * between claim and launch) goes quiet, and the reaper hands it to another attempt instead of it staying "queued"
 * forever.
 */
export async function heartbeat(db: Db, schedulerId: string, running: number[], logs: Map<string, string>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (running.length) {
      await sql`update task_instance set last_heartbeat_at = now()
        where id = any(${running}::int[]) and claimed_by = ${schedulerId} and state in ('queued', 'running')`.execute(trx)
    }
    if (logs.size === 0) return
    // Keyed "id:try", as the executor's attempt keys are; looked up, not joined (see attempt-record-sql.ts).
    const ids = [...new Set([...logs.keys()].map((k) => Number(k.split(':')[0])))]
    await trx.executeQuery(CompiledQuery.raw(APPEND_LOGS, [JSON.stringify(Object.fromEntries(logs)), ids]))
  })
}

/**
 * A runner's heartbeat of its own attempt, under the attempt's guard: the instance's heartbeat (which the reaper
 * reads) and the attempt's, with `details` stored when given (undefined keeps the last details). Returns false
 * when the guard refused: the attempt is no longer current, and its runner should stop.
 */
export async function heartbeatAttempt(db: Db, key: AttemptKey, details?: unknown): Promise<boolean> {
  const json = details === undefined ? null : JSON.stringify(details)
  const r = await sql<{ id: number }>`
    with ti as (
      update task_instance ti set last_heartbeat_at = now()
      where ti.id = ${key.tiId} and ti.try_number = ${key.tryNumber} and ti.state in ('queued', 'running')
        and exists (select 1 from task_attempt g where g.id = ${key.attemptId} and g.state in ('queued', 'running'))
      returning ti.id
    )
    update task_attempt a set last_heartbeat_at = now(),
      heartbeat_details = case when ${json}::text is null then a.heartbeat_details else ${json}::jsonb end
    where a.id = ${key.attemptId} and a.task_instance_id = ${key.tiId} and a.try_number = ${key.tryNumber}
      and exists (select 1 from ti)
    returning a.id`.execute(db)
  return r.rows.length > 0
}
