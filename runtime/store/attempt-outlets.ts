import { CompiledQuery } from 'kysely'
import type { SqlRunner } from './direct-connection.ts'

/** A dataset an attempt declared it produced (TaskContext.outlet). */
export interface Outlet {
  uri: string
  extra?: Record<string, unknown>
}

/** Whose success the dataset events are: the task instance's attempt. */
export interface OutletSource {
  tiId: number
  tryNumber: number
  dagId: string
  runId: string
  taskId: string
}

/**
 * Records the outlets of attempts whose success was just recorded, in the caller's transaction: each dataset is
 * created by uri if new, gets one dataset_event naming the producing dag, run and task with the outlet's extra,
 * and the attempt row keeps the list. One statement for all of them; called only when there are outlets, so the
 * hot record statements do not grow.
 */
export async function recordOutletsIn(trx: SqlRunner, items: Array<{ source: OutletSource; outlets: Outlet[] }>): Promise<void> {
  const rows = items.flatMap(({ source: s, outlets }) => outlets.map((o) => ({ ti: s.tiId, try: s.tryNumber, dag: s.dagId, run: s.runId, task: s.taskId, uri: o.uri, extra: o.extra ?? {} })))
  if (rows.length === 0) return
  const attempts = items.map(({ source: s, outlets }) => ({ ti: s.tiId, try: s.tryNumber, outlets }))
  await trx.executeQuery(CompiledQuery.raw(RECORD_OUTLETS, [JSON.stringify(rows), JSON.stringify(attempts)]))
}

/** $1 jsonb [{ti, try, dag, run, task, uri, extra}], $2 jsonb [{ti, try, outlets}]. */
const RECORD_OUTLETS = `
  with v as (
    select * from jsonb_to_recordset($1::jsonb) as v(ti int, try int, dag text, run text, task text, uri text, extra jsonb)
  ),
  ds as (
    -- "do update" so that an existing dataset's id is returned too
    insert into dataset (uri) select distinct uri from v
    on conflict (uri) do update set uri = excluded.uri
    returning id, uri
  ),
  ev as (
    insert into dataset_event (dataset_id, source_dag_id, source_run_id, source_task_id, extra)
    select ds.id, v.dag, v.run, v.task, v.extra from v join ds on ds.uri = v.uri
  )
  update task_attempt a set outlets = x.outlets
  from jsonb_to_recordset($2::jsonb) as x(ti int, try int, outlets jsonb)
  where a.task_instance_id = x.ti and a.try_number = x.try`
