import { taskOf } from '../dag/serialize.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import { planClear, type ClearPlan } from '../model/clear-plan.ts'
import type { RunState } from '../model/states.ts'
import { getDagVersion, getLatestVersionId } from '../store/dag.repo.ts'
import { insertInstances } from '../store/run.repo.ts'
import { clearInstancesIn, lockRunForChange, removeInstancesIn, reopenRunIn } from '../store/task-clear.ts'
import { requireRun, type ServiceContext } from './context.ts'

export interface ClearResult {
  runId: string
  /** The run's state afterwards: a finished run is queued again. */
  runState: RunState
  cleared: number
  removed: number
  created: number
  /** The run moved to the DAG's latest version (from, to), or null when it was on it already. */
  version: { from: number; to: number } | null
}

/**
 * Clears a run (`forge clear RUN_ID`), or one task of it with or without its downstream tasks: their instances go
 * back to none and are decided again, keeping their attempts and try numbers. As in Airflow, the run moves to the
 * DAG's latest version: instances of tasks it no longer has are removed and its new tasks get instances. A
 * finished run goes back to queued and is decided again. Refused (ConflictError) while an attempt holds one of the
 * instances: its outcome would land on a cleared row.
 */
export async function clearRun(ctx: ServiceContext, runId: string, opts: { taskId?: string; downstream?: boolean } = {}): Promise<ClearResult> {
  const found = await requireRun(ctx.db, runId)
  return ctx.db.transaction().execute(async (trx) => {
    const { run, tis } = await lockRunForChange(trx, found.id)
    const versionId = (await getLatestVersionId(trx, run.dag_id)) ?? run.dag_version_id
    const dag = await getDagVersion(trx, versionId)
    if (opts.taskId !== undefined && !taskOf(dag, opts.taskId)) {
      throw new NotFoundError(
        `no task "${opts.taskId}" in DAG "${run.dag_id}" (its latest version has ${dag.tasks.map((t) => t.task_id).join(', ')})`,
      )
    }
    const plan = planClear(dag, tis, opts.taskId === undefined ? dag.tasks.map((t) => t.task_id) : [opts.taskId], opts.downstream ?? false)
    refuseActive(plan, runId)
    const cleared = await clearInstancesIn(
      trx,
      plan.clear.map((c) => ({ id: c.id, mapIndex: c.mapIndex, task: taskOf(dag, c.task_id)! })),
    )
    const removed = await removeInstancesIn(trx, plan.remove)
    await insertInstances(
      trx,
      run,
      plan.create.map((id) => taskOf(dag, id)!),
    )
    const changed = cleared + removed + plan.create.length > 0 || versionId !== run.dag_version_id
    const runState = changed ? await reopenRunIn(trx, run.id, versionId) : run.state
    return {
      runId,
      runState,
      cleared,
      removed,
      created: plan.create.length,
      version: versionId === run.dag_version_id ? null : { from: run.dag_version_id, to: versionId },
    }
  })
}

function refuseActive(plan: ClearPlan, runId: string): void {
  if (plan.active.length === 0) return
  const names = plan.active.slice(0, 5).map((t) => `${t.task_id}${t.map_index >= 0 ? `[${t.map_index}]` : ''} (${t.state})`)
  const more = plan.active.length > 5 ? ` and ${plan.active.length - 5} more` : ''
  throw new ConflictError(`cannot clear run "${runId}" while an attempt holds ${names.join(', ')}${more}: wait until it finishes`)
}
