import { sql } from 'kysely'
import type { SerializedDag } from '../dag/serialize.ts'
import { dagVersionHash } from '../dag/serialize.ts'
import type { Db, Trx } from './database.ts'

export interface ImportErrorInfo {
  file: string
  line: number | null
  message: string
}

/**
 * Records what the processor found: each DAG's latest serialized version (a new dag_version row only when the
 * shape or the code digest changed) and one import_error row per broken file. A DAG whose file now fails to import keeps its last
 * good version (runs continue, as in Airflow); a DAG whose file is gone is marked inactive.
 */
export async function syncDags(db: Db, dags: SerializedDag[], errors: ImportErrorInfo[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const dag of dags) await upsertDag(trx, dag)
    const okFiles = [...new Set(dags.map((d) => d.fileloc))]
    const errorFiles = errors.map((e) => e.file)
    await trx
      .deleteFrom('import_error')
      .where('filename', 'not in', errorFiles.length ? errorFiles : [''])
      .execute()
    for (const e of errors) {
      await trx
        .insertInto('import_error')
        .values({ filename: e.file, line: e.line, message: e.message })
        .onConflict((oc) => oc.column('filename').doUpdateSet({ line: e.line, message: e.message, timestamp: sql`now()` }))
        .execute()
    }
    const seen = dags.map((d) => d.dag_id)
    const keep = [...okFiles, ...errorFiles]
    await trx
      .updateTable('dag')
      .set({ is_active: false })
      .where('dag_id', 'not in', seen.length ? seen : [''])
      .where('fileloc', 'not in', keep.length ? keep : [''])
      .execute()
  })
}

async function upsertDag(trx: Trx, dag: SerializedDag): Promise<void> {
  const hash = dagVersionHash(dag)
  const existing = await trx.selectFrom('dag').selectAll().where('dag_id', '=', dag.dag_id).forUpdate().executeTakeFirst()
  const scheduleChanged = !existing || existing.schedule !== dag.schedule || existing.timezone !== dag.timezone
  const datasets = dag.dataset_schedule ?? null
  const datasetsChanged = JSON.stringify(existing?.dataset_schedule ?? null) !== JSON.stringify(datasets)
  const row = {
    fileloc: dag.fileloc,
    is_active: true,
    schedule: dag.schedule,
    timezone: dag.timezone,
    catchup: dag.catchup,
    max_active_runs: dag.max_active_runs,
    max_active_tasks: dag.max_active_tasks,
    last_parsed_at: new Date(),
    // A changed schedule recomputes the next run from scratch (see create-runs.ts).
    ...(scheduleChanged ? { next_dagrun: null, next_dagrun_create_after: dag.schedule ? new Date(0) : null } : {}),
    // A DAG newly scheduled on datasets reacts to events from now on, not to the history.
    ...(datasetsChanged
      ? {
          dataset_schedule: datasets ? JSON.stringify(datasets) : null,
          last_dataset_event_id: sql<number>`(select coalesce(max(id), 0) from dataset_event)`,
        }
      : {}),
  }
  if (!existing)
    await trx
      .insertInto('dag')
      .values({ dag_id: dag.dag_id, ...row })
      .execute()
  else await trx.updateTable('dag').set(row).where('dag_id', '=', dag.dag_id).execute()
  await trx
    .insertInto('dag_version')
    .values({ dag_id: dag.dag_id, version_hash: hash, serialized: JSON.stringify(dag), code_digest: dag.code_digest ?? null })
    .onConflict((oc) => oc.columns(['dag_id', 'version_hash']).doNothing())
    .execute()
  const version = await trx
    .selectFrom('dag_version')
    .select('id')
    .where('dag_id', '=', dag.dag_id)
    .where('version_hash', '=', hash)
    .executeTakeFirstOrThrow()
  await trx.updateTable('dag').set({ latest_version_id: version.id }).where('dag_id', '=', dag.dag_id).execute()
}

const versionCache = new Map<number, SerializedDag>()

/**
 * Forgets the cached versions. The cache is keyed by id, which is right for a process that uses one database; a
 * process that opens another (a test opening a fresh store) calls this first, since ids repeat across databases.
 */
export function forgetDagVersions(): void {
  versionCache.clear()
}

/** dag_version rows never change, so a process-wide cache is always right. */
export async function getDagVersion(db: Db | Trx, id: number): Promise<SerializedDag> {
  const hit = versionCache.get(id)
  if (hit) return hit
  const row = await db.selectFrom('dag_version').select('serialized').where('id', '=', id).executeTakeFirstOrThrow()
  const dag = row.serialized as SerializedDag
  versionCache.set(id, dag)
  return dag
}

export async function getLatestDag(db: Db, dagId: string): Promise<{ versionId: number; dag: SerializedDag } | null> {
  const row = await db.selectFrom('dag').select(['latest_version_id', 'is_active']).where('dag_id', '=', dagId).executeTakeFirst()
  if (!row?.latest_version_id || !row.is_active) return null
  return { versionId: row.latest_version_id, dag: await getDagVersion(db, row.latest_version_id) }
}

/** Pauses or unpauses a DAG; returns whether it existed and what it was before. */
export async function setDagPaused(db: Db, dagId: string, paused: boolean): Promise<{ was: boolean } | null> {
  const row = await db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('dag').select('is_paused').where('dag_id', '=', dagId).forUpdate().executeTakeFirst()
    if (!before) return null
    if (before.is_paused !== paused) await trx.updateTable('dag').set({ is_paused: paused }).where('dag_id', '=', dagId).execute()
    return { was: before.is_paused }
  })
  // An unpaused DAG's queued runs may start now: wake the schedulers.
  if (row && !paused) await sql`select pg_notify('forge', 'run:unpaused')`.execute(db)
  return row
}

/** Which of these DAGs are paused (DAGs without a row are not). */
export async function pausedDags(db: Db, dagIds: string[]): Promise<Set<string>> {
  if (dagIds.length === 0) return new Set()
  const rows = await db.selectFrom('dag').select('dag_id').where('dag_id', 'in', dagIds).where('is_paused', '=', true).execute()
  return new Set(rows.map((r) => r.dag_id))
}

/** The DAG's latest version id, whether or not its file is still there (null: no DAG, or never processed). */
export async function getLatestVersionId(db: Db | Trx, dagId: string): Promise<number | null> {
  const row = await db.selectFrom('dag').select('latest_version_id').where('dag_id', '=', dagId).executeTakeFirst()
  return row?.latest_version_id ?? null
}
