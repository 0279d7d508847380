/**
 * State vocabulary (DESIGN §4, Airflow's names). A task instance starts with state `null` ("none": not yet
 * decided); only runtime/model code moves it on.
 */

export const TaskState = {
  Scheduled: 'scheduled',
  Queued: 'queued',
  Running: 'running',
  Success: 'success',
  Failed: 'failed',
  UpForRetry: 'up_for_retry',
  UpstreamFailed: 'upstream_failed',
  Skipped: 'skipped',
  Removed: 'removed',
} as const
export type TaskState = (typeof TaskState)[keyof typeof TaskState]

export const RunState = { Queued: 'queued', Running: 'running', Success: 'success', Failed: 'failed' } as const
export type RunState = (typeof RunState)[keyof typeof RunState]

/** States after which an instance never changes again unless a person clears it. */
export const FINISHED_TASK_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.Success,
  TaskState.Failed,
  TaskState.UpstreamFailed,
  TaskState.Skipped,
  TaskState.Removed,
])

/** States that hold an executor slot (counted against pools and concurrency caps). */
export const OCCUPYING_TASK_STATES: readonly TaskState[] = [TaskState.Queued, TaskState.Running]

export const TRIGGER_RULES = ['all_success', 'all_failed', 'all_done', 'one_success', 'one_failed', 'none_failed', 'none_skipped', 'always'] as const
export type TriggerRule = (typeof TRIGGER_RULES)[number]

export const RunType = { Scheduled: 'scheduled', Manual: 'manual', Backfill: 'backfill', DatasetTriggered: 'dataset_triggered' } as const
export type RunType = (typeof RunType)[keyof typeof RunType]

export function isFinished(state: TaskState | null): boolean {
  return state !== null && FINISHED_TASK_STATES.has(state)
}
