import { sql } from 'kysely'
import type { SerializedDag } from '../dag/serialize.ts'
import { getDagVersion } from './dag.repo.ts'
import type { Db } from './database.ts'

export interface DatasetSummary {
  uri: string
  events: number
  latest_version: string | null
  latest_at: Date | null
  /** Tasks of active DAGs that declare the dataset as an outlet, and tasks that recorded events for it. */
  producers: Array<{ dag_id: string; task_id: string }>
  /** Active DAGs scheduled on it. */
  consumers: string[]
}

export interface DatasetEventRow {
  id: number
  version: string | null
  timestamp: Date
  extra: unknown
  source: { dag_id: string | null; run_id: string | null; task_id: string | null; map_index: number | null }
  /** The runs this event started. */
  triggered_runs: Array<{ dag_id: string; run_id: string; state: string }>
}

async function activeDags(db: Db): Promise<SerializedDag[]> {
  const rows = await db
    .selectFrom('dag')
    .select('latest_version_id')
    .where('is_active', '=', true)
    .where('latest_version_id', 'is not', null)
    .execute()
  return Promise.all(rows.map((r) => getDagVersion(db, r.latest_version_id!)))
}

/** Every dataset known from events or declared by a DAG, with its producers and consumers. */
export async function listDatasets(db: Db): Promise<DatasetSummary[]> {
  const dags = await activeDags(db)
  const stats = await sql<{ uri: string; events: number; latest_version: string | null; latest_at: Date | null }>`
    select ds.uri, count(e.id)::int as events,
      (select e2.version from dataset_event e2 where e2.dataset_id = ds.id order by e2.id desc limit 1) as latest_version,
      max(e.timestamp) as latest_at
    from dataset ds left join dataset_event e on e.dataset_id = ds.id
    group by ds.id, ds.uri`.execute(db)
  const sources = await db
    .selectFrom('dataset_event as e')
    .innerJoin('dataset as ds', 'ds.id', 'e.dataset_id')
    .select(['ds.uri', 'e.source_dag_id', 'e.source_task_id'])
    .distinct()
    .execute()
  const byUri = new Map<string, DatasetSummary>()
  const entry = (uri: string) => {
    let d = byUri.get(uri)
    if (!d) byUri.set(uri, (d = { uri, events: 0, latest_version: null, latest_at: null, producers: [], consumers: [] }))
    return d
  }
  for (const s of stats.rows) Object.assign(entry(s.uri), { events: Number(s.events), latest_version: s.latest_version, latest_at: s.latest_at })
  const addProducer = (uri: string, dag_id: string, task_id: string) => {
    const d = entry(uri)
    if (!d.producers.some((p) => p.dag_id === dag_id && p.task_id === task_id)) d.producers.push({ dag_id, task_id })
  }
  for (const dag of dags) {
    for (const t of dag.tasks) for (const uri of t.outlets ?? []) addProducer(uri, dag.dag_id, t.task_id)
    for (const uri of dag.dataset_schedule?.datasets ?? []) entry(uri).consumers.push(dag.dag_id)
  }
  for (const s of sources) if (s.source_dag_id && s.source_task_id) addProducer(s.uri, s.source_dag_id, s.source_task_id)
  return [...byUri.values()].sort((a, b) => a.uri.localeCompare(b.uri))
}

/** One dataset's events, newest first, with the runs each started; null when the dataset is unknown. */
export async function showDataset(db: Db, uri: string, limit = 100): Promise<(DatasetSummary & { events_list: DatasetEventRow[] }) | null> {
  const summary = (await listDatasets(db)).find((d) => d.uri === uri)
  if (!summary) return null
  const events = await db
    .selectFrom('dataset_event as e')
    .innerJoin('dataset as ds', 'ds.id', 'e.dataset_id')
    .select(['e.id', 'e.version', 'e.timestamp', 'e.extra', 'e.source_dag_id', 'e.source_run_id', 'e.source_task_id', 'e.source_map_index'])
    .where('ds.uri', '=', uri)
    .orderBy('e.id', 'desc')
    .limit(limit)
    .execute()
  const ids = events.map((e) => e.id)
  const runs = ids.length
    ? await db
        .selectFrom('dag_run_dataset_event as l')
        .innerJoin('dag_run as r', 'r.id', 'l.dag_run_id')
        .select(['l.dataset_event_id', 'r.dag_id', 'r.run_id', 'r.state'])
        .where('l.dataset_event_id', 'in', ids)
        .orderBy('r.id')
        .execute()
    : []
  return {
    ...summary,
    events_list: events.map((e) => ({
      id: e.id,
      version: e.version,
      timestamp: e.timestamp,
      extra: e.extra,
      source: { dag_id: e.source_dag_id, run_id: e.source_run_id, task_id: e.source_task_id, map_index: e.source_map_index },
      triggered_runs: runs.filter((r) => r.dataset_event_id === e.id).map((r) => ({ dag_id: r.dag_id, run_id: r.run_id, state: r.state })),
    })),
  }
}
