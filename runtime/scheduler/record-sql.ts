import type { ClaimedRow } from './claim.ts'
import { PREPARE } from '../store/prepared.ts'

/*
 * The statements that record executor events (complete.ts). Results are recorded by one of three statements with
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
 */

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
  select 'handed', h.id, h.dag_run_id, h.state, (row_to_json(h)::jsonb || jsonb_build_object('attempt_id', ha.id))::json
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

export type RecordedRow = { kind: 'done' | 'handed'; id: number; dag_run_id: number; state: string; row: (ClaimedRow & { from_id: number }) | null }

/**
 * $1 jsonb {id: {try, state, reason, run_after, extra_tries, size, log, value?}} (no "value" key: no XCom),
 * $2 jsonb {"run|task": {from, ups?}}, the slot handoffs (Handoff in complete.ts; no "ups" key: no other upstream),
 * $3 int[] result ids, $4 scheduler id, $5 int[] and $6 text[] the handoffs' runs and task ids.
 */
export const RECORD = `${PREPARE}
  with done as (
    update task_instance ti set state = $1::jsonb -> ti.id::text ->> 'state', reason = $1::jsonb -> ti.id::text ->> 'reason',
      run_after = ($1::jsonb -> ti.id::text ->> 'run_after')::timestamptz, end_date = now(), updated_at = now(),
      max_tries = ti.max_tries + ($1::jsonb -> ti.id::text ->> 'extra_tries')::int
    where ti.id = any($3::int[]) and ti.try_number = ($1::jsonb -> ti.id::text ->> 'try')::int
      and ti.claimed_by = $4 and (ti.state || '') in ('queued', 'running')
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
      log = a.log || ($1::jsonb -> a.task_instance_id::text ->> 'log')
    where a.task_instance_id = any(array(select id from done))
      and a.try_number = ($1::jsonb -> a.task_instance_id::text ->> 'try')::int
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

/** $1 jsonb {"id:try": log text to append}, $2 int[] instance ids. */
export const APPEND_LOGS = `update task_attempt a set log = a.log || ($1::jsonb ->> (a.task_instance_id || ':' || a.try_number))
  where a.task_instance_id = any($2::int[]) and $1::jsonb ? (a.task_instance_id || ':' || a.try_number)`

/**
 * $1 instance id, $2 try number, $3 scheduler id, $4 the result as JSON text, $5 its size in bytes, $6 log text to
 * append, $7 the successor's task id for a slot handoff (null: none; same run, no other upstream).
 */
export const RECORD_ONE = `${PREPARE}
  with done as (
    update task_instance ti set state = 'success', reason = null, run_after = null, end_date = now(), updated_at = now()
    where ti.id = $1 and ti.try_number = $2 and ti.claimed_by = $3 and (ti.state || '') in ('queued', 'running')
    returning ti.id, ti.dag_run_id, ti.task_id, ti.map_index, ti.state
  ),
  x as (
    insert into xcom (task_instance_id, dag_run_id, task_id, map_index, value, size_bytes)
    select id, dag_run_id, task_id, map_index, $4::jsonb, $5 from done
    on conflict (task_instance_id) do update set value = excluded.value, size_bytes = excluded.size_bytes,
      map_index = excluded.map_index, created_at = now()
  ),
  a as (
    update task_attempt a set state = 'success', reason = null, end_date = now(), log = a.log || $6
    where a.task_instance_id = $1 and a.try_number = $2 and exists (select 1 from done)
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
 * $1 json [{id, try, state, reason, run_after, extra_tries, value (JSON text or null), run, task_id, map_index, log}],
 * $2 int[] result ids, $3 scheduler id, $4 json [{from_id, run, task_id, ups}] slot handoffs.
 * `ti.id = any($2)` makes each row a primary-key lookup; without it small tables got a sequential scan per
 * statement, which grows with the table.
 */
export const RECORD_FEW = `${PREPARE}
  with v as (
    select * from json_to_recordset($1::json)
      as v(id int, try int, state text, reason text, run_after timestamptz, extra_tries int, value text,
           run int, task_id text, map_index int, log text)
  ),
  done as (
    update task_instance ti set state = v.state, reason = v.reason, run_after = v.run_after, end_date = now(),
      updated_at = now(), max_tries = ti.max_tries + v.extra_tries
    from v
    where ti.id = any($2::int[]) and ti.id = v.id and ti.try_number = v.try
      and ti.claimed_by = $3 and (ti.state || '') in ('queued', 'running')
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
