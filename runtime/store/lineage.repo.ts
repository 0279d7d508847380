import { resolveInputs } from '../dag/ref.ts'
import { getDagVersion } from './dag.repo.ts'
import type { Db } from './database.ts'

/** One dataset event as lineage shows it: what was produced, which version, by which run and task. */
export interface LineageEvent {
  id: number
  uri: string
  version: string | null
  extra: unknown
  timestamp: Date
  produced_by: { dag_id: string | null; run_id: string | null; task_id: string | null; map_index: number | null }
}

/** A run as lineage shows it: its mapped tasks with each instance's input item (a scenario and seed) and result. */
export interface LineageRun {
  dag_id: string
  run_id: string
  run_type: string
  state: string
  code_version: number
  triggered_by: number[]
  mapped: Array<{ task_id: string; instances: Array<{ map_index: number; state: string | null; item: unknown; result: unknown }> }>
}

const EVENT_COLUMNS = [
  'e.id',
  'ds.uri',
  'e.version',
  'e.extra',
  'e.timestamp',
  'e.source_dag_id',
  'e.source_run_id',
  'e.source_task_id',
  'e.source_map_index',
] as const

function toEvent(r: {
  id: number
  uri: string
  version: string | null
  extra: unknown
  timestamp: Date
  source_dag_id: string | null
  source_run_id: string | null
  source_task_id: string | null
  source_map_index: number | null
}): LineageEvent {
  return {
    id: r.id,
    uri: r.uri,
    version: r.version,
    extra: r.extra,
    timestamp: r.timestamp,
    produced_by: { dag_id: r.source_dag_id, run_id: r.source_run_id, task_id: r.source_task_id, map_index: r.source_map_index },
  }
}

/** The event recording `version` of the dataset `uri` (the latest one when version is null). */
export async function findEvent(db: Db, uri: string, version: string | null): Promise<LineageEvent | null> {
  let q = db.selectFrom('dataset_event as e').innerJoin('dataset as ds', 'ds.id', 'e.dataset_id').select(EVENT_COLUMNS).where('ds.uri', '=', uri)
  q = version === null ? q.orderBy('e.id', 'desc') : q.where('e.version', '=', version)
  const row = await q.executeTakeFirst()
  return row ? toEvent(row) : null
}

/** The events that started a run, oldest first. */
export async function eventsStarting(db: Db, runPk: number): Promise<LineageEvent[]> {
  const rows = await db
    .selectFrom('dag_run_dataset_event as l')
    .innerJoin('dataset_event as e', 'e.id', 'l.dataset_event_id')
    .innerJoin('dataset as ds', 'ds.id', 'e.dataset_id')
    .select(EVENT_COLUMNS)
    .where('l.dag_run_id', '=', runPk)
    .orderBy('e.id')
    .execute()
  return rows.map(toEvent)
}

/** The events a run's tasks produced, oldest first. */
export async function eventsProducedBy(db: Db, dagId: string, runId: string): Promise<LineageEvent[]> {
  const rows = await db
    .selectFrom('dataset_event as e')
    .innerJoin('dataset as ds', 'ds.id', 'e.dataset_id')
    .select(EVENT_COLUMNS)
    .where('e.source_dag_id', '=', dagId)
    .where('e.source_run_id', '=', runId)
    .orderBy('e.id')
    .execute()
  return rows.map(toEvent)
}

/** The runs an event started. */
export async function runsStartedBy(db: Db, eventId: number): Promise<Array<{ dag_id: string; run_id: string }>> {
  return db
    .selectFrom('dag_run_dataset_event as l')
    .innerJoin('dag_run as r', 'r.id', 'l.dag_run_id')
    .select(['r.dag_id', 'r.run_id'])
    .where('l.dataset_event_id', '=', eventId)
    .orderBy('r.id')
    .execute()
}

/** A run with its mapped instances' items and results, or null when there is no such run. */
export async function lineageRun(db: Db, dagId: string | null, runId: string): Promise<(LineageRun & { pk: number }) | null> {
  let q = db.selectFrom('dag_run').selectAll().where('run_id', '=', runId)
  if (dagId) q = q.where('dag_id', '=', dagId)
  const run = await q.orderBy('id', 'desc').executeTakeFirst()
  if (!run) return null
  const dag = await getDagVersion(db, run.dag_version_id)
  const tis = await db
    .selectFrom('task_instance')
    .select(['id', 'task_id', 'map_index', 'state'])
    .where('dag_run_id', '=', run.id)
    .orderBy('task_id')
    .orderBy('map_index')
    .execute()
  const xcoms = await db
    .selectFrom('xcom')
    .select(['task_instance_id', 'task_id', 'map_index', 'value'])
    .where('dag_run_id', '=', run.id)
    .orderBy('map_index')
    .execute()
  const byTi = new Map(xcoms.map((x) => [x.task_instance_id, x.value]))
  const lookup = (taskId: string) => {
    const values = xcoms.filter((x) => x.task_id === taskId).map((x) => x.value)
    return dag.tasks.find((t) => t.task_id === taskId)?.map_over ? values : values[0]
  }
  const mapped = dag.tasks
    .filter((t) => t.map_over)
    .map((t) => {
      const items = resolveInputs(t.map_over, lookup) as unknown[] | undefined
      const instances = tis
        .filter((ti) => ti.task_id === t.task_id && ti.map_index >= 0)
        .map((ti) => ({ map_index: ti.map_index, state: ti.state, item: items?.[ti.map_index] ?? null, result: byTi.get(ti.id) ?? null }))
      return { task_id: t.task_id, instances }
    })
  const triggered = await eventsStarting(db, run.id)
  return {
    pk: run.id,
    dag_id: run.dag_id,
    run_id: run.run_id,
    run_type: run.run_type,
    state: run.state,
    code_version: run.dag_version_id,
    triggered_by: triggered.map((e) => e.id),
    mapped,
  }
}
