import type { Db, TaskInstanceRow } from './database.ts'

/** A run's instances in task order, as `forge tasks list` shows them. */
export async function listTaskInstances(db: Db, runPk: number): Promise<TaskInstanceRow[]> {
  return db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', runPk).orderBy('id').orderBy('map_index').execute()
}

export interface AttemptLog {
  /** task_attempt.id: its chunks (attempt-log.ts) follow `log`, the text of attempts recorded before chunks. */
  id: number
  try_number: number
  state: string
  reason: string | null
  log: string
  map_index: number
  executor_id: string | null
}

/** The attempts of a task in a run, by map index and try, with their logs; narrowed by `mapIndex` and `tryNumber`. */
export async function listAttemptLogs(
  db: Db,
  runPk: number,
  taskId: string,
  opts: { mapIndex?: number; tryNumber?: number } = {},
): Promise<AttemptLog[]> {
  let q = db
    .selectFrom('task_attempt as a')
    .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
    .select(['a.id', 'a.try_number', 'a.state', 'a.reason', 'a.log', 'ti.map_index', 'a.executor_id'])
    .where('ti.dag_run_id', '=', runPk)
    .where('ti.task_id', '=', taskId)
  if (opts.mapIndex !== undefined) q = q.where('ti.map_index', '=', opts.mapIndex)
  if (opts.tryNumber !== undefined) q = q.where('a.try_number', '=', opts.tryNumber)
  return q.orderBy('ti.map_index').orderBy('a.try_number').execute()
}

/** Task instances by id (any order). */
export async function taskInstancesByIds(db: Db, ids: number[]): Promise<TaskInstanceRow[]> {
  if (ids.length === 0) return []
  return db.selectFrom('task_instance').selectAll().where('id', 'in', ids).execute()
}

/** Instances queued under this scheduler: those it launched, and successors a runner handed a slot to for it. */
export async function queuedClaimedBy(db: Db, schedulerId: string): Promise<TaskInstanceRow[]> {
  return db.selectFrom('task_instance').selectAll().where('state', '=', 'queued').where('claimed_by', '=', schedulerId).execute()
}
