import { sql } from 'kysely'
import type { DatasetEventInfo } from '../dag/types.ts'
import type { Db, Trx } from './database.ts'

/** A DAG scheduled on datasets, locked for this scheduler to create its runs. */
export interface DatasetConsumer {
  dag_id: string
  latest_version_id: number
  dataset_schedule: { datasets: string[]; batch: boolean }
  last_dataset_event_id: number
}

/**
 * The dataset-scheduled DAGs with events they have not consumed yet, locked with SKIP LOCKED so that concurrent
 * schedulers split them and no event is consumed twice. A paused DAG's events wait for it.
 */
export async function lockDatasetConsumers(trx: Trx, limit: number): Promise<DatasetConsumer[]> {
  const rows = await sql<DatasetConsumer>`
    select d.dag_id, d.latest_version_id, d.dataset_schedule, d.last_dataset_event_id from dag d
    where d.dataset_schedule is not null and d.is_active and not d.is_paused and d.latest_version_id is not null
      and exists (
        select 1 from dataset_event e join dataset ds on ds.id = e.dataset_id
        where e.id > d.last_dataset_event_id and ds.uri in (select jsonb_array_elements_text(d.dataset_schedule -> 'datasets'))
      )
    order by d.dag_id limit ${limit}
    for update of d skip locked`.execute(trx)
  return rows.rows
}

export interface PendingEvent {
  id: number
  uri: string
  timestamp: Date
}

/**
 * Events of these datasets after `afterId`, oldest first; at most `limit`, or all of them with null (a batch
 * schedule must see past a long run of one dataset's events to the others', or it would wait for ever).
 */
export async function pendingEvents(trx: Trx, uris: string[], afterId: number, limit: number | null = 1000): Promise<PendingEvent[]> {
  let q = trx
    .selectFrom('dataset_event as e')
    .innerJoin('dataset as ds', 'ds.id', 'e.dataset_id')
    .select(['e.id', 'ds.uri', 'e.timestamp'])
    .where('ds.uri', 'in', uris)
    .where('e.id', '>', afterId)
    .orderBy('e.id')
  if (limit !== null) q = q.limit(limit)
  const rows = await q.execute()
  return rows.map((r) => ({ id: Number(r.id), uri: r.uri, timestamp: r.timestamp }))
}

/** Records which events started a run, and moves the DAG's cursor past them, in the caller's transaction. */
export async function consumeEvents(trx: Trx, dagId: string, runPk: number | null, eventIds: number[]): Promise<void> {
  if (eventIds.length === 0) return
  if (runPk !== null)
    await trx
      .insertInto('dag_run_dataset_event')
      .values(eventIds.map((id) => ({ dag_run_id: runPk, dataset_event_id: id })))
      .onConflict((oc) => oc.doNothing())
      .execute()
  await trx
    .updateTable('dag')
    .set({ last_dataset_event_id: Math.max(...eventIds) })
    .where('dag_id', '=', dagId)
    .execute()
}

/** The events that started each of these runs, oldest first (what tasks see as `ctx.triggeringEvents`). */
export async function triggeringEventsOf(db: Db | Trx, runPks: number[]): Promise<Map<number, DatasetEventInfo[]>> {
  const out = new Map<number, DatasetEventInfo[]>()
  if (runPks.length === 0) return out
  const rows = await db
    .selectFrom('dag_run_dataset_event as l')
    .innerJoin('dataset_event as e', 'e.id', 'l.dataset_event_id')
    .innerJoin('dataset as ds', 'ds.id', 'e.dataset_id')
    .select(['l.dag_run_id', 'ds.uri', 'e.version', 'e.extra', 'e.source_dag_id', 'e.source_run_id', 'e.source_task_id', 'e.timestamp'])
    .where('l.dag_run_id', 'in', runPks)
    .orderBy('e.id')
    .execute()
  for (const r of rows) {
    const info: DatasetEventInfo = {
      uri: r.uri,
      version: r.version,
      extra: (r.extra ?? {}) as Record<string, unknown>,
      sourceDagId: r.source_dag_id,
      sourceRunId: r.source_run_id,
      sourceTaskId: r.source_task_id,
      timestamp: r.timestamp,
    }
    const list = out.get(r.dag_run_id)
    if (list) list.push(info)
    else out.set(r.dag_run_id, [info])
  }
  return out
}
