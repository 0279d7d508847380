import { TaskState, type TriggerRule } from './states.ts'

/** What a task instance with undecided state should become, given its upstream instances. */
export type Verdict = 'run' | 'wait' | typeof TaskState.Skipped | typeof TaskState.UpstreamFailed

export interface UpstreamCounts {
  total: number
  success: number
  skipped: number
  /** failed + upstream_failed */
  failed: number
  /** instances in a finished state (removed ones are not counted at all) */
  done: number
}

/**
 * Counts upstream instances for a rule. A removed one (a mapped instance a shrunk list no longer reaches, a task the
 * run's DAG version dropped) is not part of the run, so it is counted nowhere: no rule waits for it or judges by it,
 * and a task whose upstream instances are all removed runs, like one with no upstream. Airflow instead keeps
 * all_success, all_failed and none_failed waiting on it for ever (apache/airflow#33164); README, "Trigger rules".
 */
export function countUpstream(states: Iterable<TaskState | null>): UpstreamCounts {
  const c: UpstreamCounts = { total: 0, success: 0, skipped: 0, failed: 0, done: 0 }
  for (const s of states) {
    if (s === TaskState.Removed) continue
    c.total++
    if (s === TaskState.Success) c.success++
    else if (s === TaskState.Skipped) c.skipped++
    else if (s === TaskState.Failed || s === TaskState.UpstreamFailed) c.failed++
    else continue
    c.done++
  }
  return c
}

/**
 * Airflow's trigger rules. Rules that can already tell the outcome decide before every upstream is done
 * (all_success fails fast on the first failed upstream), the others wait for all of them.
 */
export function evaluateTriggerRule(rule: TriggerRule, c: UpstreamCounts): Verdict {
  // Nothing to wait for or judge: Airflow runs such a task under every rule (one_success would otherwise skip it).
  if (c.total === 0) return 'run'
  const allDone = c.done === c.total
  switch (rule) {
    case 'all_success':
      if (c.failed > 0) return TaskState.UpstreamFailed
      if (c.skipped > 0) return TaskState.Skipped
      return c.success === c.total ? 'run' : 'wait'
    case 'all_failed':
      if (c.success > 0 || c.skipped > 0) return TaskState.Skipped
      return allDone ? 'run' : 'wait'
    case 'all_done':
      return allDone ? 'run' : 'wait'
    case 'one_success':
      if (c.success > 0) return 'run'
      if (!allDone) return 'wait'
      return c.failed > 0 ? TaskState.UpstreamFailed : TaskState.Skipped
    case 'one_failed':
      if (c.failed > 0) return 'run'
      return allDone ? TaskState.Skipped : 'wait'
    case 'none_failed':
      if (c.failed > 0) return TaskState.UpstreamFailed
      return allDone ? 'run' : 'wait'
    case 'none_skipped':
      if (c.skipped > 0) return TaskState.Skipped
      return allDone ? 'run' : 'wait'
    case 'always':
      return 'run'
  }
}
