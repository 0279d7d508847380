import { sql } from 'kysely'
import type { SerializedDag } from '../dag/serialize.ts'
import { RunState, RunType } from '../model/states.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db, Trx } from '../store/database.ts'
import { createRun } from '../store/run.repo.ts'
import { cronFor, latestCompleteInterval, nextInterval } from './schedule.ts'

/**
 * Creates the scheduled runs that are due. Each due DAG row is locked with SKIP LOCKED, so concurrent schedulers
 * split the work; the partial unique index on (dag_id, logical_date) makes a duplicate impossible even so.
 * Runs are created only while the DAG is under max_active_runs, so catchup never floods the table.
 */
export async function createDueRuns(db: Db, now: Date): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('dag')
      .selectAll()
      .where('is_active', '=', true)
      .where('is_paused', '=', false)
      .where('schedule', 'is not', null)
      .where('latest_version_id', 'is not', null)
      .where('next_dagrun_create_after', '<=', now)
      .orderBy('next_dagrun_create_after')
      .limit(10)
      .forUpdate()
      .skipLocked()
      .execute()
    let created = 0
    for (const dag of due) {
      const serialized = await getDagVersion(trx, dag.latest_version_id!)
      const cron = cronFor(dag.schedule!, dag.timezone)
      const active = await trx
        .selectFrom('dag_run')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('dag_id', '=', dag.dag_id)
        .where('state', 'in', [RunState.Queued, RunState.Running])
        .executeTakeFirstOrThrow()
      let activeRuns = Number(active.n)
      // next_dagrun is the logical date of the next run; null means "compute from the last run or start date".
      let interval = dag.next_dagrun
        ? { start: dag.next_dagrun, end: dag.next_dagrun_create_after! }
        : nextInterval(cron, {
            lastEnd: await lastScheduledEnd(trx, dag.dag_id),
            startDate: serialized.start_date ? new Date(serialized.start_date) : null,
            catchup: dag.catchup,
            now,
          })
      const paramsError = scheduledParamsError(serialized)
      if (paramsError && interval && interval.end <= now) {
        // No task could run with these params: one failed run says why, for the latest due interval only, so
        // catchup does not fill the table with a failed run per missed interval.
        const complete = latestCompleteInterval(cron, now)
        const latest = complete && complete.start > interval.start ? complete : interval
        const run = await createRun(trx, {
          dag: serialized,
          versionId: dag.latest_version_id!,
          runType: RunType.Scheduled,
          logicalDate: latest.start,
          interval: latest,
          conf: {},
          failedBecause: paramsError,
        })
        if (run) created++
        interval = nextInterval(cron, { lastEnd: latest.end, startDate: null, catchup: false, now })
      }
      while (interval && interval.end <= now && activeRuns < dag.max_active_runs && !paramsError) {
        const run = await createRun(trx, {
          dag: serialized,
          versionId: dag.latest_version_id!,
          runType: RunType.Scheduled,
          logicalDate: interval.start,
          interval,
          conf: serialized.default_params,
        })
        if (run) {
          created++
          activeRuns++
        }
        interval = nextInterval(cron, { lastEnd: interval.end, startDate: null, catchup: dag.catchup, now })
      }
      await trx
        .updateTable('dag')
        .set({ next_dagrun: interval?.start ?? null, next_dagrun_create_after: interval?.end ?? null })
        .where('dag_id', '=', dag.dag_id)
        .execute()
    }
    return created
  })
}

/** Why a scheduled run of this version cannot have valid params (decided by the processor), or null. */
export function scheduledParamsError(dag: SerializedDag): string | null {
  if (dag.params_error) return `cannot start: ${dag.params_error}`
  if (dag.default_params === null) return 'cannot start: the params have no valid defaults; `forge dags list` names the field'
  return null
}

async function lastScheduledEnd(db: Db | Trx, dagId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('dag_run')
    .select('data_interval_end')
    .where('dag_id', '=', dagId)
    .where('run_type', 'in', [RunType.Scheduled, RunType.Backfill])
    .orderBy('logical_date', 'desc')
    .executeTakeFirst()
  return row?.data_interval_end ?? null
}

/** Moves queued runs to running while their DAG is under max_active_runs (manual and backfill runs wait here). */
export async function startQueuedRuns(db: Db): Promise<number> {
  return db.transaction().execute(async (trx) => {
    // Lock the DAG rows first: two schedulers counting running runs at once could both promote past the cap.
    const locked = await sql<{ dag_id: string }>`
      select dag_id from dag where dag_id in (select distinct dag_id from dag_run where state = 'queued')
      order by dag_id for update skip locked`.execute(trx)
    if (locked.rows.length === 0) return 0
    const dagIds = locked.rows.map((r) => r.dag_id)
    const result = await sql<{ id: number }>`
    with ranked as (
      select r.id, d.max_active_runs,
             (select count(*) from dag_run x where x.dag_id = r.dag_id and x.state = 'running') as running,
             row_number() over (partition by r.dag_id order by r.logical_date, r.id) as rn
      from dag_run r join dag d on d.dag_id = r.dag_id
      where r.state = 'queued' and not d.is_paused and r.dag_id = any(${dagIds})
    )
    update dag_run set state = 'running', start_date = now()
    from ranked
    where dag_run.id = ranked.id and ranked.running + ranked.rn <= ranked.max_active_runs and dag_run.state = 'queued'
    returning dag_run.id`.execute(trx)
    return result.rows.length
  })
}
