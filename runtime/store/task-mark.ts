import { sql } from 'kysely'
import type { TaskState } from '../model/states.ts'
import { AT_REST } from '../model/transitions.ts'
import type { Trx } from './database.ts'
import { stateGuard } from './state-guard.ts'

/**
 * Sets an instance's state by hand (service/mark.ts), in the caller's transaction, guarded by the transition table
 * and never from a state an attempt holds.
 * Its result stays as it was: a task marked success without having run has none, as in Airflow.
 */
export async function markInstanceIn(
  trx: Trx,
  tiId: number,
  to: typeof TaskState.Success | typeof TaskState.Failed,
  reason: string,
): Promise<boolean> {
  const done = await sql`
    update task_instance set state = ${to}, reason = ${reason}, run_after = null, end_date = now(), updated_at = now()
    where id = ${tiId} and ${stateGuard(to, 'state', AT_REST)}`.execute(trx)
  return Number(done.numAffectedRows ?? 0) === 1
}
