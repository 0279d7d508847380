import { downstreamTasks, taskOf, type SerializedDag } from '../dag/serialize.ts'
import { OCCUPYING_TASK_STATES, TaskState } from './states.ts'

export interface InstanceView {
  id: number
  task_id: string
  map_index: number
  state: TaskState | null
}

/** What clearing some tasks of a run does to its instances (pure; service/clear.ts applies it in SQL). */
export interface ClearPlan {
  /** Back to none, with the task's settings of `dag`; `mapIndex` is set where the instance becomes the placeholder (-1). */
  clear: Array<{ id: number; task_id: string; mapIndex: number }>
  /** To removed: instances of tasks `dag` no longer has, and an unmapped task's extra instances. */
  remove: Array<{ id: number; reason: string }>
  /** Tasks of `dag` that have no instance in the run yet: one undecided instance each. */
  create: string[]
  /** Selected instances an attempt holds (queued or running): the caller refuses the clear. */
  active: InstanceView[]
}

/**
 * Plans a clear of `taskIds` (with `downstream`: and every task downstream of them) under `dag`, the DAG version
 * the run moves to. A cleared task starts over as one undecided instance, map index -1, as in a new run: a mapped
 * task's other instances wait for its expansion, which takes them up again or removes those the new list no
 * longer reaches, and an unmapped task's extra instances (it was mapped in the run's old version) are removed.
 * Instances keep their ids, try numbers and attempts.
 */
export function planClear(dag: SerializedDag, tis: readonly InstanceView[], taskIds: readonly string[], downstream: boolean): ClearPlan {
  const selected = new Set(taskIds)
  if (downstream) for (const id of taskIds) for (const d of downstreamClosure(dag, id)) selected.add(d)
  const plan: ClearPlan = { clear: [], remove: [], create: [], active: [] }
  const byTask = new Map<string, InstanceView[]>()
  for (const ti of tis) byTask.set(ti.task_id, [...(byTask.get(ti.task_id) ?? []), ti])
  for (const [taskId, instances] of byTask) {
    const task = taskOf(dag, taskId)
    if (!task) {
      for (const ti of instances) {
        if (isActive(ti)) plan.active.push(ti)
        else if (ti.state !== TaskState.Removed) plan.remove.push({ id: ti.id, reason: "removed: the DAG's latest version has no such task" })
      }
      continue
    }
    if (!selected.has(taskId)) continue
    const sorted = [...instances].sort((a, b) => a.map_index - b.map_index)
    plan.active.push(...sorted.filter(isActive))
    sorted.forEach((ti, i) => {
      if (i === 0) {
        if (ti.state !== null) plan.clear.push({ id: ti.id, task_id: taskId, mapIndex: -1 })
      } else if (!task.map_over) {
        if (ti.state !== TaskState.Removed) plan.remove.push({ id: ti.id, reason: 'removed: the task is no longer mapped' })
      } else if (ti.state !== null) plan.clear.push({ id: ti.id, task_id: taskId, mapIndex: ti.map_index })
    })
  }
  plan.create = dag.tasks.filter((t) => !byTask.has(t.task_id)).map((t) => t.task_id)
  return plan
}

/** The tasks a new state of `taskId` can change the verdict of: every task downstream of it, transitively. */
export function downstreamClosure(dag: SerializedDag, taskId: string): string[] {
  const seen = new Set<string>()
  const visit = (id: string) => {
    for (const d of downstreamTasks(dag, id)) {
      if (seen.has(d.task_id)) continue
      seen.add(d.task_id)
      visit(d.task_id)
    }
  }
  visit(taskId)
  return [...seen]
}

/** States a trigger rule decided without the task running: a new upstream state may decide them otherwise. */
const DECIDED_UNRUN: ReadonlySet<TaskState | null> = new Set([null, TaskState.UpstreamFailed, TaskState.Skipped])

/**
 * The downstream tasks to decide again after `taskId` is marked: those whose every instance is undecided or was
 * decided by a trigger rule without running (upstream_failed, skipped), and at least one was decided. Tasks that
 * ran keep their outcome, as in Airflow.
 */
export function redecidedDownstream(dag: SerializedDag, tis: readonly InstanceView[], taskId: string): string[] {
  return downstreamClosure(dag, taskId).filter((id) => {
    const mine = tis.filter((t) => t.task_id === id)
    return mine.some((t) => t.state !== null) && mine.every((t) => DECIDED_UNRUN.has(t.state))
  })
}

function isActive(ti: InstanceView): boolean {
  return ti.state !== null && OCCUPYING_TASK_STATES.includes(ti.state)
}
