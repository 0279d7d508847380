import { NotFoundError } from '../errors.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { DagRunRow, TaskInstanceRow } from '../store/database.ts'
import { listRuns as listRunRows } from '../store/run.repo.ts'
import { listAttemptLogs, listTaskInstances, type AttemptLog } from '../store/task-instance.repo.ts'
import { requireRun, type ServiceContext } from './context.ts'

/** Runs, newest first, of one DAG or all (`forge runs list`). */
export async function listRuns(ctx: ServiceContext, opts: { dagId?: string; limit?: number } = {}): Promise<DagRunRow[]> {
  return listRunRows(ctx.db, opts.dagId, opts.limit)
}

/**
 * A run's task instances (`forge tasks list`), each with its task's operator; NotFoundError for an unknown run. The
 * operator is part of the DAG version the run was created with, not of each instance.
 */
export async function listTasks(ctx: ServiceContext, runId: string): Promise<Array<TaskInstanceRow & { operator: string | null }>> {
  const run = await requireRun(ctx.db, runId)
  const operators = new Map((await getDagVersion(ctx.db, run.dag_version_id)).tasks.map((t) => [t.task_id, t.operator]))
  return (await listTaskInstances(ctx.db, run.id)).map((t) => ({ ...t, operator: operators.get(t.task_id) ?? null }))
}

/** A task's attempts in a run with their logs, narrowed to a map index or a try (`forge logs`). */
export async function readLogs(
  ctx: ServiceContext,
  runId: string,
  taskId: string,
  opts: { tryNumber?: number; mapIndex?: number } = {},
): Promise<AttemptLog[]> {
  const run = await requireRun(ctx.db, runId)
  const attempts = await listAttemptLogs(ctx.db, run.id, taskId, opts)
  if (attempts.length > 0) return attempts
  const which = `${opts.mapIndex !== undefined ? ` map index ${opts.mapIndex}` : ''}${opts.tryNumber !== undefined ? ` try ${opts.tryNumber}` : ''}`
  throw new NotFoundError(`no attempts of task "${taskId}"${which} in run "${runId}"`)
}
