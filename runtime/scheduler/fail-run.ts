import { RunState, TaskState } from '../model/states.ts'
import type { Db, Trx } from '../store/database.ts'

/** A run's decision went wrong: the message people see in `forge runs list`, without a stack. */
export function decideFailureReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return `could not be decided: ${message}`.slice(0, 2000)
}

/**
 * Whether an error in deciding a run is that run's own (its DAG version, its data, a statement of its own), rather
 * than the database's: a lost connection, a deadlock or a server shutting down must not fail runs, only the pass.
 */
export function isRunsOwnFault(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return true
  // 08P01 is a statement the server refused (a bind with too many parameters), not a lost connection.
  if (/^[0-9A-Z]{5}$/.test(code)) return code === '08P01' || !/^(08|40|53|57|58)/.test(code)
  return !/^E[A-Z]+$/.test(code)
}

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
