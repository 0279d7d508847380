import { sql } from 'kysely'
import type { SerializedTask } from '../dag/serialize.ts'
import { retryDelayMs, shouldRetry } from '../model/retry.ts'
import { TaskState } from '../model/states.ts'
import type { Db, TaskInstanceRow, Trx } from '../store/database.ts'
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
  /** Successors claimed by slot handoff, with the instance whose slot each took. */
  handed: Array<TaskInstanceRow & { from_id: number }>
}

/**
 * A slot handoff: when `from` succeeds, its successor `task_id` (in run `run`) is claimed in the same statement,
 * taking over `from`'s pool slot, DAG concurrency slot and executor slot. Pool and DAG occupancy do not grow, so
 * no cap can be exceeded whatever other schedulers do, and the claim needs no pool lock: a chain edge becomes one
 * statement. The scheduler proposes handoffs only for all_success, unmapped successors in the same pool needing
 * no more slots; SQL checks that every other upstream has succeeded (success is final, so a snapshot that says
 * so cannot be stale) and that the successor is still undecided.
 */
export interface Handoff {
  from_id: number
  run: number
  task_id: string
  /** The successor's other upstream task ids. */
  ups: string[]
}

/** recordEvents in the caller's transaction: one statement for started attempts, one for finished ones. */
export async function recordEventsIn(trx: Db | Trx, schedulerId: string, started: Started[], finished: Finished[], xcomMaxBytes: number, handoffs: Handoff[] = []): Promise<Recorded> {
  const changedRuns = new Set<number>()
  const succeeded = new Set<number>()
  const handed: Recorded['handed'] = []
  if (started.length === 0 && finished.length === 0) return { runs: changedRuns, succeeded, handed }
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
    if (rows.length === 0) return { runs: changedRuns, succeeded, handed }
    // One statement: the guarded instance update decides which results count; XCom and attempt rows are written
    // only for those (a result the reaper already gave up on is dropped whole).
    // `(ti.state || '')` keeps the planner off the partial index on state: with json_to_recordset estimated at
    // 100 rows it otherwise scans that index and joins by nested loop, quadratic in the batch (1589 results took
    // 470 ms). `ti.id = any(ids)` makes each row a primary-key lookup; without it small tables got a sequential
    // scan per statement, which grows with the table.
    const updated = await sql<{ kind: 'done' | 'handed'; id: number; dag_run_id: number; state: string; row: (TaskInstanceRow & { from_id: number }) | null }>`${sql.raw(PREPARE)}
      with v as (
        select * from json_to_recordset(${JSON.stringify(rows)}::json)
          as v(id int, try int, state text, reason text, run_after timestamptz, extra_tries int, value text,
               run int, task_id text, map_index int, log text)
      ),
      done as (
        update task_instance ti set state = v.state, reason = v.reason, run_after = v.run_after, end_date = now(),
          updated_at = now(), max_tries = ti.max_tries + v.extra_tries
        from v
        where ti.id = any(${rows.map((r) => r.id)}::int[]) and ti.id = v.id and ti.try_number = v.try
          and ti.claimed_by = ${schedulerId} and (ti.state || '') in ('queued', 'running')
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
      ),
      h as (
        select * from json_to_recordset(${JSON.stringify(handoffs)}::json) as h(from_id int, run int, task_id text, ups text[])
      ),
      handed as (
        update task_instance ti set state = 'queued', try_number = ti.try_number + 1, claimed_by = ${schedulerId},
          last_heartbeat_at = now(), start_date = now(), end_date = null, reason = null, updated_at = now()
        from h join done on done.id = h.from_id and done.state = 'success'
        where ti.dag_run_id = h.run and ti.task_id = h.task_id and ti.map_index = -1 and ti.state is null
          and (cardinality(h.ups) = 0
               or not exists (select 1 from task_instance u where u.dag_run_id = h.run and u.task_id = any(h.ups)
                              and u.state is distinct from 'success'))
        returning ti.*, h.from_id
      ),
      handed_attempts as (
        insert into task_attempt (task_instance_id, try_number, state, scheduler_id)
        select id, try_number, 'queued', ${schedulerId} from handed
        on conflict (task_instance_id, try_number) do nothing
      )
      select 'done' as kind, id, dag_run_id, state, null::json as row from done
      union all
      select 'handed', id, dag_run_id, state, row_to_json(handed) from handed`.execute(trx)
    for (const r of updated.rows) {
      if (r.kind === 'handed') {
        handed.push(r.row!)
        continue
      }
      changedRuns.add(r.dag_run_id)
      if (r.state === TaskState.Success) succeeded.add(r.id)
    }
  }
  return { runs: changedRuns, succeeded, handed }
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
