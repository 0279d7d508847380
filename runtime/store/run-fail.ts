import { RunState, TaskState } from '../model/states.ts'
import type { Db, Trx } from './database.ts'

/**
 * Fails a run that cannot be decided (a map wider than the limit, a DAG version that cannot be read, a statement
 * of its own that failed) and records why on the run. Its instances that have not started are marked removed, so
 * that no scheduler claims them; those already queued or running finish and are recorded as usual.
 */
export async function failRunIn(trx: Trx | Db, runPk: number, reason: string): Promise<boolean> {
  const failed = await trx
    .updateTable('dag_run')
    .set({ state: RunState.Failed, reason, end_date: new Date() })
    .where('id', '=', runPk)
    .where('state', '=', RunState.Running)
    .executeTakeFirst()
  if (Number(failed.numUpdatedRows) === 0) return false
  // Only what has not started: instances that finished keep their state (the table also lets a clear remove those).
  await trx
    .updateTable('task_instance')
    .set({ state: TaskState.Removed, reason: 'not run: its run failed', end_date: new Date() })
    .where('dag_run_id', '=', runPk)
    .where((eb) => eb.or([eb('state', 'in', [TaskState.Scheduled, TaskState.UpForRetry]), eb('state', 'is', null)]))
    .execute()
  return true
}
