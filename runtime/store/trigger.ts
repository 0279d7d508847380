import { RunType } from '../model/states.ts'
import { getLatestDag } from './dag.repo.ts'
import type { Db } from './database.ts'
import { createRun } from './run.repo.ts'
import { ConflictError, NotFoundError } from '../errors.ts'

/**
 * Creates a manual (or backfill/dataset-triggered) run of the DAG's latest version. `params` must already be
 * validated against the DAG's schema (validateConf does that in a child process, before anything is written).
 */
export async function triggerRun(db: Db, dagId: string, params: unknown, opts: { runType?: RunType; logicalDate?: Date; runId?: string } = {}) {
  const latest = await getLatestDag(db, dagId)
  if (!latest) throw new NotFoundError(`no DAG "${dagId}": run \`forge dags list\` to see the DAGs and import errors`)
  const logicalDate = opts.logicalDate ?? new Date()
  const run = await db.transaction().execute((trx) =>
    createRun(trx, {
      dag: latest.dag,
      versionId: latest.versionId,
      runType: opts.runType ?? RunType.Manual,
      logicalDate,
      interval: { start: logicalDate, end: logicalDate },
      conf: params,
      runId: opts.runId,
    }),
  )
  if (!run) throw new ConflictError(`a run of "${dagId}" for ${logicalDate.toISOString()} exists already`)
  // createRun has already notified schedulers (run:<id>) inside the transaction.
  return run
}
