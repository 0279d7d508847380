import { StateTransitionError } from '../errors.ts'
import { TaskState } from './states.ts'

type From = TaskState | null
/** A transition's target: a state, or none (null) when a person clears the instance. */
type To = TaskState | null

const S = TaskState
/**
 * Every state a person may clear or mark from: the finished ones and those still waiting to be claimed, never one an
 * attempt holds (queued, running), whose outcome would land on the changed row.
 */
export const AT_REST: readonly From[] = [null, S.Scheduled, S.UpForRetry, S.Success, S.Failed, S.UpstreamFailed, S.Skipped]

/**
 * Every task-instance state change the runtime makes, in one table (Airflow models/adr/0001: transitions live in
 * the model). SQL updates are guarded with `where state in (allowedFrom(to))` so a lost race changes nothing;
 * tests/unit/model/sql-transitions.test.ts checks every statement under runtime/store/ and runtime/scheduler/
 * against it. Instances that are queued or running belong to their attempt: no person moves them (service/).
 */
const ALLOWED: ReadonlyArray<readonly [To, readonly From[]]> = [
  [S.Scheduled, [null, S.UpForRetry]],
  // From none only by a slot handoff (store/attempt-record.ts): the successor is claimed as its upstream succeeds.
  [S.Queued, [S.Scheduled, null]],
  [S.Running, [S.Queued]],
  // From queued or running by a recorded result; from any other state at rest when a person marks it (service/mark.ts).
  [S.Success, [S.Running, S.Queued, ...AT_REST.filter((s) => s !== S.Success)]],
  // From none also by a map expansion over a value that is not a list.
  [S.Failed, [S.Running, S.Queued, ...AT_REST.filter((s) => s !== S.Failed)]],
  [S.UpForRetry, [S.Running, S.Queued]],
  [S.UpstreamFailed, [null]],
  [S.Skipped, [null]],
  // A failed run's unstarted instances (store/run-fail.ts), so that nothing claims them; a mapped instance an
  // expansion no longer reaches (the list shrank after a clear); and, when a clear moves a run to the DAG's latest
  // version, the instances of tasks that version no longer has, whatever state they finished in.
  [S.Removed, [null, S.Scheduled, S.UpForRetry, S.Success, S.Failed, S.UpstreamFailed, S.Skipped]],
  // Cleared by a person (service/clear.ts): the instance is decided again, keeping its attempts and try number.
  [null, [S.Scheduled, S.UpForRetry, S.Success, S.Failed, S.UpstreamFailed, S.Skipped, S.Removed]],
]

const BY_TARGET = new Map<To, readonly From[]>(ALLOWED)

/** The states a task instance is created in: undecided (a new run), or scheduled (a mapped task's expansion). */
const CREATED_IN: readonly From[] = [null, TaskState.Scheduled]

export function allowedFrom(to: To): readonly From[] {
  return BY_TARGET.get(to) ?? []
}

/** Every allowed (from, to) pair, in table order: for checks generated from the table (the tests' database guard). */
export function allowedTransitions(): Array<{ from: From; to: To }> {
  return ALLOWED.flatMap(([to, froms]) => froms.map((from) => ({ from, to })))
}

export function createdStates(): readonly From[] {
  return CREATED_IN
}

export function canTransition(from: From, to: To): boolean {
  return allowedFrom(to).includes(from)
}

export function assertTransition(from: From, to: To, what: string): void {
  if (!canTransition(from, to)) throw new StateTransitionError(`${what}: ${from ?? 'none'} -> ${to ?? 'none'} is not allowed`)
}
