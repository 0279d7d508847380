/** Retry arithmetic, kept pure so tests can pin the jitter. */

export interface RetryPolicy {
  retry_delay_ms: number
  retry_backoff: 'fixed' | 'exponential'
  retry_max_delay_ms: number
}

/**
 * Delay before attempt `tryNumber + 1`. Exponential doubles per failed attempt with ±25% jitter (so a burst of
 * failures does not retry in lockstep) and never exceeds the cap.
 */
export function retryDelayMs(policy: RetryPolicy, tryNumber: number, random: () => number = Math.random): number {
  if (policy.retry_backoff === 'fixed') return policy.retry_delay_ms
  const base = policy.retry_delay_ms * 2 ** Math.min(Math.max(tryNumber - 1, 0), 30)
  const jittered = base * (0.75 + 0.5 * random())
  return Math.min(Math.round(jittered), policy.retry_max_delay_ms)
}

/** An attempt that failed goes up for retry when it may and has tries left; otherwise it has failed for good. */
export function shouldRetry(tryNumber: number, maxTries: number, nonRetryable: boolean): boolean {
  return !nonRetryable && tryNumber < maxTries
}
