import { taskOf } from '../dag/serialize.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import { planClear, redecidedDownstream } from '../model/clear-plan.ts'
import { OCCUPYING_TASK_STATES, TaskState, type RunState } from '../model/states.ts'
import { canTransition } from '../model/transitions.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import { clearInstancesIn, lockRunForChange, reopenRunIn } from '../store/task-clear.ts'
import { markInstanceIn } from '../store/task-mark.ts'
import { requireRun, type ServiceContext } from './context.ts'

export type MarkState = typeof TaskState.Success | typeof TaskState.Failed

export interface MarkResult {
  /** False when the instance was in that state already (nothing was written). */
  changed: boolean
  /** Downstream tasks decided again because their verdict may change. */
  redecided: string[]
  runState: RunState
}

/**
 * Marks one task instance success or failed by hand (`forge tasks mark`). Its downstream tasks that a trigger rule
 * decided without running them (upstream_failed, skipped) are cleared so they are decided again under the new
 * state, and a finished run goes back to queued to be decided again; tasks that ran keep their outcome. The run
 * stays on its DAG version. Refused while an attempt holds the instance (its outcome would overwrite the mark), and
 * for a removed instance, which is not part of the run.
 */
export async function markTask(ctx: ServiceContext, runId: string, taskId: string, to: MarkState, mapIndex = -1): Promise<MarkResult> {
  const found = await requireRun(ctx.db, runId)
  return ctx.db.transaction().execute(async (trx) => {
    const { run, tis } = await lockRunForChange(trx, found.id)
    const ti = tis.find((t) => t.task_id === taskId && t.map_index === mapIndex)
    if (!ti) throw notFound(tis, runId, taskId, mapIndex)
    const name = `${taskId}${mapIndex >= 0 ? `[${mapIndex}]` : ''}`
    if (ti.state === to) return { changed: false, redecided: [], runState: run.state }
    if (ti.state !== null && OCCUPYING_TASK_STATES.includes(ti.state))
      throw new ConflictError(`cannot mark ${name} in run "${runId}": it is ${ti.state}; wait until its attempt finishes`)
    if (!canTransition(ti.state, to)) throw new ConflictError(`cannot mark ${name} in run "${runId}" ${to}: it is ${ti.state ?? 'none'}`)
    if (!(await markInstanceIn(trx, ti.id, to, `marked ${to} by hand`)))
      throw new ConflictError(`${name} in run "${runId}" changed while it was being marked; look again with \`forge tasks list\``)
    const dag = await getDagVersion(trx, run.dag_version_id)
    const marked = tis.map((t) => (t.id === ti.id ? { ...t, state: to } : t))
    const redecided = redecidedDownstream(dag, marked, taskId)
    const plan = planClear(dag, marked, redecided, false)
    await clearInstancesIn(
      trx,
      plan.clear.map((c) => ({ id: c.id, mapIndex: c.mapIndex, task: taskOf(dag, c.task_id)! })),
    )
    return { changed: true, redecided, runState: await reopenRunIn(trx, run.id, run.dag_version_id) }
  })
}

function notFound(tis: ReadonlyArray<{ task_id: string; map_index: number }>, runId: string, taskId: string, mapIndex: number): NotFoundError {
  const indexes = tis.filter((t) => t.task_id === taskId).map((t) => t.map_index)
  if (indexes.length === 0) return new NotFoundError(`no task "${taskId}" in run "${runId}": see \`forge tasks list ${runId}\``)
  const which = indexes.length === 1 && indexes[0] === -1 ? 'it is not mapped: leave --map-index out' : `its map indexes are ${indexes.join(', ')}`
  return new NotFoundError(`no instance of "${taskId}" with map index ${mapIndex} in run "${runId}": ${which}`)
}
