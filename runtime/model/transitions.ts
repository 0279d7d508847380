import { StateTransitionError } from '../errors.ts'
import { TaskState } from './states.ts'

type From = TaskState | null

/**
 * Every task-instance state change the runtime makes, in one table (Airflow models/adr/0001: transitions live in
 * the model). SQL updates are guarded with `where state in (allowedFrom(to))` so a lost race changes nothing.
 */
const ALLOWED: Record<TaskState, readonly From[]> = {
  [TaskState.Scheduled]: [null, TaskState.UpForRetry],
  // From none only by a slot handoff (store/attempt-record.ts): the successor is claimed as its upstream succeeds.
  [TaskState.Queued]: [TaskState.Scheduled, null],
  [TaskState.Running]: [TaskState.Queued],
  [TaskState.Success]: [TaskState.Running, TaskState.Queued],
  [TaskState.Failed]: [null, TaskState.Running, TaskState.Queued],
  [TaskState.UpForRetry]: [TaskState.Running, TaskState.Queued],
  [TaskState.UpstreamFailed]: [null],
  [TaskState.Skipped]: [null],
  // A failed run's unstarted instances (scheduler/fail-run.ts), so that nothing claims them; Airflow also uses it for a
  // task a newer DAG version dropped, which cannot happen here: a run keeps the DAG version it was created with.
  [TaskState.Removed]: [null, TaskState.Scheduled, TaskState.UpForRetry],
}

/** The states a task instance is created in: undecided (a new run), or scheduled (a mapped task's expansion). */
const CREATED_IN: readonly From[] = [null, TaskState.Scheduled]

export function allowedFrom(to: TaskState): readonly From[] {
  return ALLOWED[to]
}

/** Every allowed (from, to) pair, in table order: for checks generated from the table (the tests' database guard). */
export function allowedTransitions(): Array<{ from: From; to: TaskState }> {
  return (Object.entries(ALLOWED) as Array<[TaskState, readonly From[]]>).flatMap(([to, froms]) => froms.map((from) => ({ from, to })))
}

export function createdStates(): readonly From[] {
  return CREATED_IN
}

export function canTransition(from: From, to: TaskState): boolean {
  return ALLOWED[to].includes(from)
}

export function assertTransition(from: From, to: TaskState, what: string): void {
  if (!canTransition(from, to)) throw new StateTransitionError(`${what}: ${from ?? 'none'} -> ${to} is not allowed`)
}
