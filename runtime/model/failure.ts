import { retryDelayMs, shouldRetry, type RetryPolicy } from './retry.ts'
import { TaskState } from './states.ts'

/**
 * Why an attempt did not succeed (DESIGN §4). `task`: its code failed or timed out, which spends the task's
 * retries. `infrastructure`: what ran it failed (its runner or scheduler died, its executor lost it, it was
 * preempted), which spends a separate, bounded budget, so a crash never costs a user's retry.
 */
export const FailureClass = { Task: 'task', Infrastructure: 'infrastructure' } as const
export type FailureClass = (typeof FailureClass)[keyof typeof FailureClass]

export interface FailureFacts {
  tryNumber: number
  maxTries: number
  /** The task said a retry cannot help (bad input); ignored for infrastructure failures, which are not the task's word. */
  nonRetryable: boolean
  failureClass: FailureClass
  /** Infrastructure failures of this instance before this one, and how many it may have. */
  infraFailures: number
  maxInfraRetries: number
  /** What went wrong, for people ("ValueError: …", "runner died"). */
  reason: string
}

export interface FailureDecision {
  state: typeof TaskState.UpForRetry | typeof TaskState.Failed
  /** The try is given back (max_tries grows by one): the attempt did not count against the task's retries. */
  refundsTry: boolean
  /** The instance's infrastructure failure count grows by one. */
  spendsInfra: boolean
  /** The reason to record, saying which class and which budget it spent. */
  reason: string
}

/** Decides what a failed attempt leads to; pure, so that every path that records failures agrees. */
export function decideFailure(f: FailureFacts): FailureDecision {
  if (f.failureClass === FailureClass.Infrastructure) {
    const n = f.infraFailures + 1
    if (n <= f.maxInfraRetries) {
      return {
        state: TaskState.UpForRetry,
        refundsTry: true,
        spendsInfra: true,
        reason: `infrastructure: ${f.reason}; retrying, infrastructure retry ${n} of ${f.maxInfraRetries}`,
      }
    }
    const spent =
      f.maxInfraRetries === 0
        ? 'no infrastructure retries allowed (infraRetries: 0)'
        : `infrastructure retries spent (${f.maxInfraRetries} of ${f.maxInfraRetries})`
    return { state: TaskState.Failed, refundsTry: false, spendsInfra: true, reason: `infrastructure: ${f.reason}; ${spent}` }
  }
  if (shouldRetry(f.tryNumber, f.maxTries, f.nonRetryable)) {
    return {
      state: TaskState.UpForRetry,
      refundsTry: false,
      spendsInfra: false,
      reason: `${f.reason} (attempt ${f.tryNumber} of ${f.maxTries}; retrying)`,
    }
  }
  return { state: TaskState.Failed, refundsTry: false, spendsInfra: false, reason: f.reason }
}

/** The longest an infrastructure retry waits (README, "Retries"). */
export const INFRA_RETRY_DELAY_MS = 1000

/**
 * How long the retry a failure leads to waits. A task failure waits the task's backoff, meant for flaky code and
 * the services it calls; an infrastructure failure (a runner, scheduler or node that died) says nothing about
 * them, so it retries after a short fixed pause (the task's retryDelay when shorter), never backing off.
 */
export function retryWaitMs(d: FailureDecision, policy: RetryPolicy, tryNumber: number, random?: () => number): number {
  if (d.spendsInfra) return Math.min(INFRA_RETRY_DELAY_MS, policy.retry_delay_ms)
  return retryDelayMs(policy, tryNumber, random)
}
