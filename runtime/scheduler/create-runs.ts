import type { SerializedDag } from '../dag/serialize.ts'
import { RunType } from '../model/states.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db } from '../store/database.ts'
import { countActiveRunsOf, lastScheduledEnd, lockDueDags, setNextDagrun } from '../store/due-dags.ts'
import { createRun } from '../store/run.repo.ts'
import { cronFor, latestCompleteInterval, nextInterval } from './schedule.ts'

/**
 * Creates the scheduled runs that are due. Each due DAG row is locked with SKIP LOCKED, so concurrent schedulers
 * split the work; the partial unique index on (dag_id, logical_date) makes a duplicate impossible even so.
 * Runs are created only while the DAG is under max_active_runs, so catchup never floods the table.
 */
export async function createDueRuns(db: Db, now: Date): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const due = await lockDueDags(trx, now)
    let created = 0
    for (const dag of due) {
      const serialized = await getDagVersion(trx, dag.latest_version_id!)
      const cron = cronFor(dag.schedule!, dag.timezone)
      let activeRuns = await countActiveRunsOf(trx, dag.dag_id)
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
      await setNextDagrun(trx, dag.dag_id, interval)
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
