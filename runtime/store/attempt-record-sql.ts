import type { TaskInstanceRow } from './database.ts'
import { STORE_NUMBERED_SEQ } from './attempt-log.ts'
import { PREPARE } from './prepared.ts'

/*
 * The statements that record attempts (attempt-record.ts). Results are recorded by one of three statements with
 * the same effect, chosen by what there is to record:
 * - RECORD_ONE: a single success with at most one slot handoff to a successor with no other upstream, the chain
 *   edge. Scalar parameters: no JSON to parse or join, which made it 0.05–0.13 ms faster than RECORD_FEW on the
 *   same edge (0.62 against 0.67–0.76 ms, same writes, measured alone on one connection).
 * - RECORD_FEW joins task_instance to the list of results. A join lets the planner put the table outside a nested
 *   loop when its statistics are stale (a run had just created 1000 instances that autovacuum had not yet
 *   analysed); the first executions on a connection then rescanned the whole list for each instance: recording
 *   999 results took 288 ms. With at most RECORD_FEW_MAX results that worst case is a few hundred comparisons.
 * - RECORD joins no table to a list: each row's values are looked up by key in a jsonb object bound once as a
 *   parameter (a binary search that copies nothing), and tables are reached by `= any(array)` index scans, so no
 *   stale estimate can make the planner rescan the list for each row.
 * Explicit $n, so that each parameter is sent once. `(ti.state || '')` keeps the planner off the partial indexes
 * on state. All three return the same rows (RecordedRow).
 *
 * The guard (which attempt may still be recorded) is the same in all three: the instance is on that try and queued
 * or running, and that try's attempt row has not finished (ATTEMPT_IS_CURRENT). It does not ask who claimed the
 * instance: a runner records its own attempt whichever scheduler runs now. A log is appended as a new chunk
 * (task_log_chunk), never by rewriting a growing text value; its number comes from the same statement's update of
 * the attempt row (APPENDED_SEQ).
 */

/** The attempt guard's second half, for an instance row `ti` already known to be on the attempt's try. */
const ATTEMPT_IS_CURRENT = `exists (select 1 from task_attempt g where g.task_instance_id = ti.id and g.try_number = ti.try_number
      and g.state in ('queued', 'running'))`

/**
 * The number of the chunk a statement appends to attempt row `a`'s log, read from the RETURNING of the update that
 * bumped `a.log_appends` (attempt-log.ts STORE_NUMBERED_SEQ): allocated by the write itself, so no other writer
 * (a note, the runner) can take it meanwhile.
 */
const APPENDED_SEQ = `${STORE_NUMBERED_SEQ} + a.log_appends`

/**
 * The end all three record statements share: the attempt rows of the successors handed a slot, and the rows
 * returned (RecordedRow). `scheduler` is the parameter holding the scheduler id.
 */
function handedAttemptsAndRows(scheduler: string): string {
  return `handed_attempts as (
    insert into task_attempt (task_instance_id, try_number, state, scheduler_id)
    select id, try_number, 'queued', ${scheduler} from handed
    on conflict (task_instance_id, try_number) do nothing
    returning id, task_instance_id
  )
  select 'done' as kind, id, dag_run_id, state, null::json as row from done
  union all
  select 'handed', h.id, h.dag_run_id, h.state, (to_jsonb(h) || jsonb_build_object('attempt_id', ha.id))::json
  from handed h left join handed_attempts ha on ha.task_instance_id = h.id`
}

/** $1 jsonb {id: {try, executor_id}}, $2 int[] ids, $3 scheduler id. */
export const MARK_STARTED = `${PREPARE}
  with ti as (
    update task_instance ti set state = 'running', executor_id = $1::jsonb -> ti.id::text ->> 'executor_id', updated_at = now()
    where ti.id = any($2::int[]) and ti.try_number = ($1::jsonb -> ti.id::text ->> 'try')::int
      and ti.claimed_by = $3 and (ti.state || '') = 'queued'
    returning ti.id
  )
  update task_attempt a set state = 'running', executor_id = $1::jsonb -> a.task_instance_id::text ->> 'executor_id'
  where a.task_instance_id = any($2::int[]) and a.try_number = ($1::jsonb -> a.task_instance_id::text ->> 'try')::int
    and a.state = 'queued'`

export type RecordedRow = {
  kind: 'done' | 'handed'
  id: number
  dag_run_id: number
  state: string
  row: (TaskInstanceRow & { from_id: number; attempt_id: number | null }) | null
}

/**
 * $1 jsonb {id: {try, state, reason, run_after, extra_tries, infra, failure_class, size, log, value?}} (no "value"
 * key: no XCom), $2 jsonb {"run|task": {from, ups?}}, the slot handoffs (Handoff in attempt-record.ts; no "ups"
 * key: no other upstream), $3 int[] result ids, $4 who the handed successors are claimed for, $5 int[] and
 * $6 text[] the handoffs' runs and task ids.
 */
export const RECORD = `${PREPARE}
  with done as (
    update task_instance ti set state = $1::jsonb -> ti.id::text ->> 'state', reason = $1::jsonb -> ti.id::text ->> 'reason',
      run_after = ($1::jsonb -> ti.id::text ->> 'run_after')::timestamptz, end_date = now(), updated_at = now(),
      max_tries = ti.max_tries + ($1::jsonb -> ti.id::text ->> 'extra_tries')::int,
      infra_failures = ti.infra_failures + ($1::jsonb -> ti.id::text ->> 'infra')::int
    where ti.id = any($3::int[]) and ti.try_number = ($1::jsonb -> ti.id::text ->> 'try')::int
      and (ti.state || '') in ('queued', 'running') and ${ATTEMPT_IS_CURRENT}
    returning ti.id, ti.dag_run_id, ti.task_id, ti.map_index, ti.state
  ),
  x as (
    insert into xcom (task_instance_id, dag_run_id, task_id, map_index, value, size_bytes)
    select id, dag_run_id, task_id, map_index, $1::jsonb -> id::text -> 'value', ($1::jsonb -> id::text ->> 'size')::int
    from done where $1::jsonb -> id::text ? 'value'
    on conflict (task_instance_id) do update set value = excluded.value, size_bytes = excluded.size_bytes,
      map_index = excluded.map_index, created_at = now()
  ),
  a as (
    update task_attempt a set state = $1::jsonb -> a.task_instance_id::text ->> 'state',
      reason = $1::jsonb -> a.task_instance_id::text ->> 'reason', end_date = now(),
      failure_class = $1::jsonb -> a.task_instance_id::text ->> 'failure_class', log_appends = a.log_appends + 1
    where a.task_instance_id = any(array(select id from done))
      and a.try_number = ($1::jsonb -> a.task_instance_id::text ->> 'try')::int
    returning a.id, a.task_instance_id, a.log_appends
  ),
  l as (
    insert into task_log_chunk (attempt_id, seq, text)
    select a.id, ${APPENDED_SEQ}, $1::jsonb -> a.task_instance_id::text ->> 'log' from a
    where ($1::jsonb -> a.task_instance_id::text ->> 'log') <> ''
  ),
  handed as (
    update task_instance ti set state = 'queued', try_number = ti.try_number + 1, claimed_by = $4,
      last_heartbeat_at = now(), start_date = now(), end_date = null, reason = null, updated_at = now()
    where ti.dag_run_id = any($5::int[]) and ti.task_id = any($6::text[]) and ti.map_index = -1 and ti.state is null
      and $2::jsonb ? (ti.dag_run_id || '|' || ti.task_id)
      and ($2::jsonb -> (ti.dag_run_id || '|' || ti.task_id) ->> 'from')::int = any(array(select id from done where state = 'success'))
      and (not ($2::jsonb -> (ti.dag_run_id || '|' || ti.task_id) ? 'ups')
           or not exists (select 1 from task_instance u where u.dag_run_id = ti.dag_run_id
                          and u.task_id = any(array(select jsonb_array_elements_text($2::jsonb -> (ti.dag_run_id || '|' || ti.task_id) -> 'ups')))
                          and u.state is distinct from 'success'))
    returning ti.*, ($2::jsonb -> (ti.dag_run_id || '|' || ti.task_id) ->> 'from')::int as from_id
  ),
  ${handedAttemptsAndRows('$4')}`

/** $1 jsonb {"id:try": log text to append}, $2 int[] instance ids: one new chunk per attempt. */
export const APPEND_LOGS = `with a as (
    update task_attempt a set log_appends = a.log_appends + 1
    where a.task_instance_id = any($2::int[]) and $1::jsonb ? (a.task_instance_id || ':' || a.try_number)
      and ($1::jsonb ->> (a.task_instance_id || ':' || a.try_number)) <> ''
    returning a.id, a.task_instance_id, a.try_number, a.log_appends
  )
  insert into task_log_chunk (attempt_id, seq, text)
  select a.id, ${APPENDED_SEQ}, $1::jsonb ->> (a.task_instance_id || ':' || a.try_number) from a`

/**
 * $1 instance id, $2 try number, $3 who a handed successor is claimed for, $4 the result as JSON text, $5 its size
 * in bytes, $6 log text to append, $7 the successor's task id for a slot handoff (null: none; same run, no other
 * upstream).
 */
export const RECORD_ONE = `${PREPARE}
  with done as (
    update task_instance ti set state = 'success', reason = null, run_after = null, end_date = now(), updated_at = now()
    where ti.id = $1 and ti.try_number = $2 and (ti.state || '') in ('queued', 'running') and ${ATTEMPT_IS_CURRENT}
    returning ti.id, ti.dag_run_id, ti.task_id, ti.map_index, ti.state
  ),
  x as (
    insert into xcom (task_instance_id, dag_run_id, task_id, map_index, value, size_bytes)
    select id, dag_run_id, task_id, map_index, $4::jsonb, $5 from done
    on conflict (task_instance_id) do update set value = excluded.value, size_bytes = excluded.size_bytes,
      map_index = excluded.map_index, created_at = now()
  ),
  a as (
    update task_attempt a set state = 'success', reason = null, end_date = now(), failure_class = null, log_appends = a.log_appends + 1
    where a.task_instance_id = $1 and a.try_number = $2 and exists (select 1 from done)
    returning a.id, a.log_appends
  ),
  l as (
    insert into task_log_chunk (attempt_id, seq, text)
    select a.id, ${APPENDED_SEQ}, $6::text from a where $6::text <> ''
  ),
  handed as (
    update task_instance ti set state = 'queued', try_number = ti.try_number + 1, claimed_by = $3,
      last_heartbeat_at = now(), start_date = now(), end_date = null, reason = null, updated_at = now()
    from done
    where ti.dag_run_id = done.dag_run_id and ti.task_id = $7 and ti.map_index = -1 and ti.state is null
    returning ti.*, done.id as from_id
  ),
  ${handedAttemptsAndRows('$3')}`

/** Batches up to this many results (and handoffs) use RECORD_FEW. */
export const RECORD_FEW_MAX = 16

/**
 * $1 json [{id, try, state, reason, run_after, extra_tries, infra, failure_class, value (JSON text or null), run,
 * task_id, map_index, log}], $2 int[] result ids, $3 who handed successors are claimed for, $4 json
 * [{from_id, run, task_id, ups}] slot handoffs.
 * `ti.id = any($2)` makes each row a primary-key lookup; without it small tables got a sequential scan per
 * statement, which grows with the table.
 */
export const RECORD_FEW = `${PREPARE}
  with v as (
    select * from json_to_recordset($1::json)
      as v(id int, try int, state text, reason text, run_after timestamptz, extra_tries int, infra int,
           failure_class text, value text, run int, task_id text, map_index int, log text)
  ),
  done as (
    update task_instance ti set state = v.state, reason = v.reason, run_after = v.run_after, end_date = now(),
      updated_at = now(), max_tries = ti.max_tries + v.extra_tries, infra_failures = ti.infra_failures + v.infra
    from v
    where ti.id = any($2::int[]) and ti.id = v.id and ti.try_number = v.try
      and (ti.state || '') in ('queued', 'running') and ${ATTEMPT_IS_CURRENT}
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
    update task_attempt a set state = v.state, reason = v.reason, end_date = now(), failure_class = v.failure_class,
      log_appends = a.log_appends + 1
    from v join done on done.id = v.id
    where a.task_instance_id = v.id and a.try_number = v.try
    returning a.id, a.log_appends, v.log
  ),
  l as (
    insert into task_log_chunk (attempt_id, seq, text)
    select a.id, ${APPENDED_SEQ}, a.log from a where a.log <> ''
  ),
  h as (
    select * from json_to_recordset($4::json) as h(from_id int, run int, task_id text, ups text[])
  ),
  handed as (
    update task_instance ti set state = 'queued', try_number = ti.try_number + 1, claimed_by = $3,
      last_heartbeat_at = now(), start_date = now(), end_date = null, reason = null, updated_at = now()
    from h join done on done.id = h.from_id and done.state = 'success'
    where ti.dag_run_id = h.run and ti.task_id = h.task_id and ti.map_index = -1 and ti.state is null
      and (cardinality(h.ups) = 0
           or not exists (select 1 from task_instance u where u.dag_run_id = h.run and u.task_id = any(h.ups)
                          and u.state is distinct from 'success'))
    returning ti.*, h.from_id
  ),
  ${handedAttemptsAndRows('$3')}`
