import { sql } from 'kysely'
import type { Db } from './database.ts'

/** An instance waiting on an executor this scheduler does not run, with the reason now on it. */
export interface WaitingOnExecutor {
  dag_id: string
  task_id: string
  executor: string
  reason: string
}

/**
 * A task naming an executor this scheduler does not run waits (another scheduler that runs it may claim it, as
 * Airflow's scheduler skips a task whose executor it has not loaded): say so on the instance, where `forge tasks
 * list` shows it, once (a reason already there is kept; a claim clears it). Returns the instances it flagged.
 * Instances naming none run on the default executor, which every scheduler has.
 */
export async function flagMissingExecutors(db: Db, schedulerId: string, executors: string[]): Promise<WaitingOnExecutor[]> {
  const runs = executors.join(', ')
  const flagged = await sql<WaitingOnExecutor>`
    update task_instance ti set reason = 'waiting: task "' || ti.task_id || '" of DAG "' || ti.dag_id || '" names executor "'
        || ti.executor || '", which scheduler ' || ${schedulerId}::text || ' does not run (it runs ' || ${runs}::text
        || '); configure that executor on a scheduler (kubernetes: FORGE_K8S_IMAGE) or change the task''s executor'
    where ti.state = 'scheduled' and ti.reason is null and ti.executor is not null and not (ti.executor = any(${executors}::text[]))
    returning ti.dag_id, ti.task_id, ti.executor, ti.reason`.execute(db)
  return flagged.rows
}
