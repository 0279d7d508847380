import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { DEFAULT_INFRA_RETRIES, type SerializedDag, type SerializedTask } from '../dag/serialize.ts'
import { RunState, RunType } from '../model/states.ts'
import type { Db, DagRunRow, Trx } from './database.ts'

export function makeRunId(type: RunType, date: Date): string {
  const iso = date.toISOString()
  return type === RunType.Manual ? `manual__${iso}_${randomBytes(4).toString('hex')}` : `${type}__${iso}`
}

export interface NewRun {
  dag: SerializedDag
  versionId: number
  runType: RunType
  logicalDate: Date
  interval: { start: Date; end: Date }
  conf: unknown
  runId?: string
  /** Create the run already failed, with this reason and no task instances (its params cannot be valid). */
  failedBecause?: string
}

/**
 * Creates a run and one undecided task instance per task, in the caller's transaction. Returns null when a
 * scheduled/backfill run for that logical date exists already (another scheduler won the race).
 */
export async function createRun(trx: Trx, r: NewRun): Promise<DagRunRow | null> {
  const runId = r.runId ?? makeRunId(r.runType, r.runType === RunType.Manual ? new Date() : r.logicalDate)
  const run = await trx
    .insertInto('dag_run')
    .values({
      dag_id: r.dag.dag_id,
      run_id: runId,
      run_type: r.runType,
      state: r.failedBecause ? RunState.Failed : RunState.Queued,
      ...(r.failedBecause ? { reason: r.failedBecause, end_date: sql<Date>`now()` } : {}),
      logical_date: r.logicalDate,
      data_interval_start: r.interval.start,
      data_interval_end: r.interval.end,
      conf: JSON.stringify(r.conf ?? {}),
      dag_version_id: r.versionId,
      // The run records the code it starts with (DESIGN §4); its attempts record what each one ran.
      code_digest: r.dag.code_digest ?? null,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst()
  if (!run || r.failedBecause) return run ?? null
  await insertInstances(trx, run, r.dag.tasks)
  await sql`select pg_notify('forge', ${`run:${run.id}`})`.execute(trx)
  return run
}

/** One undecided instance per task (a new run, or the tasks a clear finds new in the DAG's latest version). */
export async function insertInstances(trx: Trx, run: Pick<DagRunRow, 'id' | 'dag_id' | 'run_id'>, tasks: readonly SerializedTask[]): Promise<void> {
  if (tasks.length === 0) return
  await trx
    .insertInto('task_instance')
    .values(
      tasks.map((t) => ({
        dag_run_id: run.id,
        dag_id: run.dag_id,
        run_id: run.run_id,
        task_id: t.task_id,
        state: null,
        max_tries: t.retries + 1,
        max_infra_retries: t.infra_retries ?? DEFAULT_INFRA_RETRIES,
        pool: t.pool,
        pool_slots: t.pool_slots,
        priority_weight: t.priority,
        executor: t.executor ?? null,
        executor_config: JSON.stringify(t.executor_config ?? {}),
      })),
    )
    .execute()
}

export async function listRuns(db: Db, dagId?: string, limit = 100): Promise<DagRunRow[]> {
  let q = db.selectFrom('dag_run').selectAll().orderBy('queued_at', 'desc').orderBy('id', 'desc').limit(limit)
  if (dagId) q = q.where('dag_id', '=', dagId)
  return q.execute()
}

export async function findRun(db: Db, runId: string): Promise<DagRunRow | undefined> {
  return db.selectFrom('dag_run').selectAll().where('run_id', '=', runId).orderBy('id', 'desc').executeTakeFirst()
}

/** Queued and running runs that can progress: a paused DAG's runs wait for its unpause, so `--until-idle` need not. */
export async function countActiveRuns(db: Db): Promise<number> {
  const row = await db
    .selectFrom('dag_run')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('state', 'in', [RunState.Queued, RunState.Running])
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('dag').select('dag_id').whereRef('dag.dag_id', '=', 'dag_run.dag_id').where('dag.is_paused', '=', true))),
    )
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** A run's names, by its primary key. */
export async function runNames(db: Db | Trx, runPk: number): Promise<{ id: number; dag_id: string; run_id: string } | undefined> {
  return db.selectFrom('dag_run').select(['id', 'dag_id', 'run_id']).where('id', '=', runPk).executeTakeFirst()
}
