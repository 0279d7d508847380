import { sql } from 'kysely'
import type { SerializedTask } from '../dag/serialize.ts'
import { retryDelayMs, shouldRetry } from '../model/retry.ts'
import { TaskState } from '../model/states.ts'
import type { Db, Trx } from '../store/database.ts'
import { PREPARE } from '../store/prepared.ts'

export interface Finished {
  tiId: number
  tryNumber: number
  maxTries: number
  runPk: number
  taskId: string
  mapIndex: number
  task: SerializedTask
  ok: boolean
  result?: unknown
  nonRetryable: boolean
  /** Interrupted by a clean shutdown: up for retry at once, and the attempt does not count against retries. */
  requeue?: boolean
  reason: string | null
  log: string
}

export interface Started {
  tiId: number
  tryNumber: number
  executorId: string
}

/**
 * Records what the executor reported, set-based in one transaction: started attempts become running, finished
 * ones success, up_for_retry (with its backoff) or failed, with their XCom and log. Every update is guarded by
 * (try_number, claimed_by, state): if the reaper already gave up on this attempt, the late result is dropped
 * rather than recorded twice. Returns the run ids that changed.
 */
export async function recordEvents(db: Db, schedulerId: string, started: Started[], finished: Finished[], xcomMaxBytes: number): Promise<Set<number>> {
  return db.transaction().execute(async (trx) => (await recordEventsIn(trx, schedulerId, started, finished, xcomMaxBytes)).runs)
}

export interface Recorded {
  /** Runs whose instances changed. */
  runs: Set<number>
  /** Task instances whose result this call recorded as success. */
  succeeded: Set<number>
}

/** recordEvents in the caller's transaction: one statement for started attempts, one for finished ones. */
export async function recordEventsIn(trx: Trx, schedulerId: string, started: Started[], finished: Finished[], xcomMaxBytes: number): Promise<Recorded> {
  const changedRuns = new Set<number>()
  const succeeded = new Set<number>()
  if (started.length === 0 && finished.length === 0) return { runs: changedRuns, succeeded }
  const now = Date.now()
  const rows = finished.map((f) => {
    let value: string | null = null
    let ok = f.ok
    let reason = f.reason
    let nonRetryable = f.nonRetryable
    if (ok) {
      value = JSON.stringify(f.result ?? null)
      const size = Buffer.byteLength(value)
      if (size > xcomMaxBytes) {
        ok = false
        nonRetryable = true
        value = null
        reason = `result of task "${f.taskId}" is ${(size / 1048576).toFixed(2)} MiB; XCom values are capped at ${(xcomMaxBytes / 1048576).toFixed(2)} MiB (FORGE_XCOM_MAX_BYTES): write large data to S3 or disk and return its location`
      }
    }
    const retry = !ok && (f.requeue || shouldRetry(f.tryNumber, f.maxTries, nonRetryable))
    const state = ok ? TaskState.Success : retry ? TaskState.UpForRetry : TaskState.Failed
    const runAfter = retry ? new Date(f.requeue ? now : now + retryDelayMs(f.task, f.tryNumber)).toISOString() : null
    if (!ok && retry && !f.requeue) reason = `${reason ?? 'failed'} (attempt ${f.tryNumber} of ${f.maxTries}; retrying)`
    const extraTries = f.requeue ? 1 : 0
    return { id: f.tiId, try: f.tryNumber, state, reason, run_after: runAfter, value, map_index: f.mapIndex, task_id: f.taskId, run: f.runPk, log: f.log, extra_tries: extraTries }
  })
  {
    if (started.length) {
      const s = JSON.stringify(started.map((x) => ({ id: x.tiId, try: x.tryNumber, executor_id: x.executorId })))
      await sql`${sql.raw(PREPARE)} update task_instance ti set state = 'running', executor_id = v.executor_id, updated_at = now()
        from json_to_recordset(${s}::json) as v(id int, try int, executor_id text)
        where ti.id = v.id and ti.try_number = v.try and ti.claimed_by = ${schedulerId} and (ti.state || '') = 'queued'`.execute(trx)
      await sql`${sql.raw(PREPARE)} update task_attempt a set state = 'running', executor_id = v.executor_id
        from json_to_recordset(${s}::json) as v(id int, try int, executor_id text)
        where a.task_instance_id = v.id and a.try_number = v.try and a.state = 'queued'`.execute(trx)
    }
    if (rows.length === 0) return { runs: changedRuns, succeeded }
    // One statement: the guarded instance update decides which results count; XCom and attempt rows are written
    // only for those (a result the reaper already gave up on is dropped whole).
    // `(ti.state || '')` keeps the planner off the partial index on state: with json_to_recordset estimated at
    // 100 rows it otherwise scans that index and joins by nested loop, quadratic in the batch (1589 results took
    // 470 ms); this way each row is a primary-key lookup (the same batch: see the scheduler benchmark).
    const updated = await sql<{ id: number; dag_run_id: number; state: string }>`${sql.raw(PREPARE)}
      with v as (
        select * from json_to_recordset(${JSON.stringify(rows)}::json)
          as v(id int, try int, state text, reason text, run_after timestamptz, extra_tries int, value text,
               run int, task_id text, map_index int, log text)
      ),
      done as (
        update task_instance ti set state = v.state, reason = v.reason, run_after = v.run_after, end_date = now(),
          updated_at = now(), max_tries = ti.max_tries + v.extra_tries
        from v
        where ti.id = v.id and ti.try_number = v.try and ti.claimed_by = ${schedulerId} and (ti.state || '') in ('queued', 'running')
        returning ti.id, ti.dag_run_id, ti.state
      ),
      x as (
        insert into xcom (task_instance_id, dag_run_id, task_id, map_index, value, size_bytes)
        select v.id, v.run, v.task_id, v.map_index, v.value::jsonb, octet_length(v.value)
        from v join done on done.id = v.id where v.value is not null
        on conflict (task_instance_id) do update set value = excluded.value, size_bytes = excluded.size_bytes,
          map_index = excluded.map_index, created_at = now()
      ),
      a as (
        update task_attempt a set state = v.state, reason = v.reason, end_date = now(), log = a.log || v.log
        from v join done on done.id = v.id
        where a.task_instance_id = v.id and a.try_number = v.try
      )
      select id, dag_run_id, state from done`.execute(trx)
    for (const r of updated.rows) {
      changedRuns.add(r.dag_run_id)
      if (r.state === TaskState.Success) succeeded.add(r.id)
    }
  }
  return { runs: changedRuns, succeeded }
}

/**
 * Heartbeats the attempts this scheduler is running, in one statement, and appends their new log output. Only the
 * instances it actually runs: one it claimed but failed to start (the database failed between claim and launch)
 * goes quiet, and the reaper hands it to another attempt instead of it staying "queued" forever.
 */
export async function heartbeat(db: Db, schedulerId: string, running: number[], logs: Map<string, string>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (running.length) {
      await sql`update task_instance set last_heartbeat_at = now()
        where id = any(${running}::int[]) and claimed_by = ${schedulerId} and state in ('queued', 'running')`.execute(trx)
    }
    if (logs.size === 0) return
    const rows = [...logs].map(([key, log]) => {
      const [id, tr] = key.split(':')
      return { id: Number(id), try: Number(tr), log }
    })
    await sql`update task_attempt a set log = a.log || v.log
      from json_to_recordset(${JSON.stringify(rows)}::json) as v(id int, try int, log text)
      where a.task_instance_id = v.id and a.try_number = v.try`.execute(trx)
  })
}
