import { CompiledQuery } from 'kysely'
import type { SqlRunner } from './direct-connection.ts'

/** A dataset an attempt declared it produced (TaskContext.outlet, or the task's `outlets`). */
export interface Outlet {
  uri: string
  /** `extra.version` (a string) is the version produced: one event per version of a dataset, however often recorded. */
  extra?: Record<string, unknown>
}

/** Whose success the dataset events are: the task instance's attempt. */
export interface OutletSource {
  tiId: number
  tryNumber: number
}

/** What a successful attempt produced: the outlets its code recorded, then the declared ones it did not name. */
export function producedOutlets(recorded: Outlet[] | undefined, declared: readonly string[] | undefined): Outlet[] {
  const out = [...(recorded ?? [])]
  for (const uri of declared ?? []) if (!out.some((o) => o.uri === uri)) out.push({ uri })
  return out
}

/**
 * Records the outlets of attempts whose success was just recorded, in the caller's transaction: each dataset is
 * created by uri if new, gets one dataset_event naming the producing dag, run, task and map index, with the
 * version and extra, and the attempt row keeps the list. A version already recorded for that dataset (a cleared
 * and re-run producer) adds no second event, so no consumer runs twice for one version. Consumers' schedulers are
 * woken at once. One statement; called only when there are outlets, so the hot record statements do not grow.
 * Event writers take one transaction-level advisory lock before their ids are drawn, so events commit in id order:
 * a consumer's cursor (dataset-events.ts) never passes an id that a slower transaction commits later.
 */
export async function recordOutletsIn(trx: SqlRunner, items: Array<{ source: OutletSource; outlets: Outlet[] }>): Promise<void> {
  const rows = items.flatMap(({ source: s, outlets }) =>
    outlets.map((o) => ({ ti: s.tiId, uri: o.uri, version: typeof o.extra?.version === 'string' ? o.extra.version : null, extra: o.extra ?? {} })),
  )
  if (rows.length === 0) return
  const attempts = items.map(({ source: s, outlets }) => ({ ti: s.tiId, try: s.tryNumber, outlets }))
  await trx.executeQuery(CompiledQuery.raw(RECORD_OUTLETS, [JSON.stringify(rows), JSON.stringify(attempts)]))
}

/** The first key of the advisory lock that orders dataset event commits ('FDEV'); see scheduler-lock.ts. */
export const DATASET_EVENT_LOCK_CLASS = 0x46444556

/** $1 jsonb [{ti, uri, version, extra}], $2 jsonb [{ti, try, outlets}]. v reads lk, so the lock is held before any insert. */
const RECORD_OUTLETS = `
  with lk as materialized (select pg_advisory_xact_lock(${DATASET_EVENT_LOCK_CLASS}, 0)),
  v as (
    select v.*, ti.dag_id, ti.run_id, ti.task_id, ti.map_index
    from lk, jsonb_to_recordset($1::jsonb) as v(ti int, uri text, version text, extra jsonb)
    join task_instance ti on ti.id = v.ti
  ),
  ds as (
    -- "do update" so that an existing dataset's id is returned too
    insert into dataset (uri) select distinct uri from v
    on conflict (uri) do update set uri = excluded.uri
    returning id, uri
  ),
  ev as (
    insert into dataset_event (dataset_id, source_dag_id, source_run_id, source_task_id, source_map_index, version, extra)
    select ds.id, v.dag_id, v.run_id, v.task_id, v.map_index, v.version, v.extra from v join ds on ds.uri = v.uri
    on conflict (dataset_id, version) where version is not null do nothing
    returning id
  ),
  att as (
    update task_attempt a set outlets = x.outlets
    from jsonb_to_recordset($2::jsonb) as x(ti int, try int, outlets jsonb)
    where a.task_instance_id = x.ti and a.try_number = x.try
  )
  select pg_notify('forge', 'dataset') from (select 1 from ev limit 1) as any_event`
