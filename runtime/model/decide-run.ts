import type { SerializedDag } from '../dag/serialize.ts'
import { RunState, TaskState, isFinished } from './states.ts'
import { countUpstream, evaluateTriggerRule } from './trigger-rules.ts'

export interface TiView {
  id: number
  task_id: string
  map_index: number
  state: TaskState | null
  run_after: Date | null
}

export interface RunDecision {
  /** State changes for undecided or retry-due instances. */
  updates: Array<{ id: number; from: TaskState | null; to: TaskState; reason?: string }>
  /** Mapped tasks (map_index -1) whose upstreams allow them to run: the caller expands them from the upstream list. */
  expand: Array<{ id: number; task_id: string }>
  /** The run's state after these updates. */
  runState: RunState
  /** Earliest time a waiting retry becomes due, so the scheduler can sleep until then. */
  nextWakeAt: Date | null
}

/**
 * Decides one run: which undecided instances become scheduled, skipped or upstream_failed (trigger rules), which
 * retries are due, and whether the run has finished. Pure: the scheduler applies the result in SQL.
 */
export function decideRun(dag: SerializedDag, tis: readonly TiView[], now: Date): RunDecision {
  const byTask = new Map<string, TiView[]>()
  for (const ti of tis) {
    const list = byTask.get(ti.task_id)
    if (list) list.push(ti)
    else byTask.set(ti.task_id, [ti])
  }
  // Decisions made in this pass feed later tasks in the same pass (tasks are visited in topological order), so a
  // failure propagates down a whole branch in one tick rather than one level per tick.
  const effective = new Map<number, TaskState | null>(tis.map((t) => [t.id, t.state]))
  const decision: RunDecision = { updates: [], expand: [], runState: RunState.Running, nextWakeAt: null }
  const set = (ti: TiView, to: TaskState, reason?: string) => {
    decision.updates.push({ id: ti.id, from: ti.state, to, reason })
    effective.set(ti.id, to)
  }

  for (const task of topological(dag)) {
    const instances = byTask.get(task.task_id) ?? []
    for (const ti of instances) {
      if (ti.state === TaskState.UpForRetry) {
        if (!ti.run_after || ti.run_after <= now) set(ti, TaskState.Scheduled)
        else if (!decision.nextWakeAt || ti.run_after < decision.nextWakeAt) decision.nextWakeAt = ti.run_after
        continue
      }
      if (ti.state !== null) continue
      const upstreamStates = task.upstream.flatMap((u) => (byTask.get(u) ?? []).map((x) => effective.get(x.id) ?? null))
      const verdict = task.upstream.length === 0 ? 'run' : evaluateTriggerRule(task.trigger_rule, countUpstream(upstreamStates))
      if (verdict === 'wait') continue
      if (verdict === 'run') {
        if (task.map_over && ti.map_index === -1) decision.expand.push({ id: ti.id, task_id: task.task_id })
        // A cleared mapped task's other instances: its expansion takes them up again or removes them.
        else if (!task.map_over) set(ti, TaskState.Scheduled)
      } else {
        set(ti, verdict, verdict === TaskState.UpstreamFailed ? 'an upstream task failed' : 'upstream skipped')
      }
    }
  }

  decision.runState = runStateOf(dag, tis, effective)
  return decision
}

/** success/failed once every instance has finished, judged by the leaves (as Airflow does); running otherwise. */
function runStateOf(dag: SerializedDag, tis: readonly TiView[], effective: Map<number, TaskState | null>): RunState {
  if (!tis.every((t) => isFinished(effective.get(t.id) ?? null))) return RunState.Running
  const hasDownstream = new Set(dag.tasks.flatMap((t) => t.upstream))
  const leafFailed = tis.some((t) => {
    if (hasDownstream.has(t.task_id)) return false
    const s = effective.get(t.id)
    return s === TaskState.Failed || s === TaskState.UpstreamFailed
  })
  return leafFailed ? RunState.Failed : RunState.Success
}

const topoCache = new WeakMap<SerializedDag, SerializedDag['tasks']>()

function topological(dag: SerializedDag): SerializedDag['tasks'] {
  const cached = topoCache.get(dag)
  if (cached) return cached
  const byId = new Map(dag.tasks.map((t) => [t.task_id, t]))
  const order: SerializedDag['tasks'] = []
  const seen = new Set<string>()
  const visit = (id: string) => {
    if (seen.has(id)) return
    seen.add(id)
    for (const up of byId.get(id)?.upstream ?? []) visit(up)
    const t = byId.get(id)
    if (t) order.push(t)
  }
  for (const t of dag.tasks) visit(t.task_id)
  topoCache.set(dag, order)
  return order
}
