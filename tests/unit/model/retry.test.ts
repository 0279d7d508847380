import { describe, expect, it } from 'vitest'
import { retryDelayMs, shouldRetry } from '../../../runtime/model/retry.ts'
import { canTransition } from '../../../runtime/model/transitions.ts'

describe('retry policy', () => {
  const exp = { retry_delay_ms: 1000, retry_backoff: 'exponential' as const, retry_max_delay_ms: 10_000 }

  it('keeps a fixed delay fixed', () => {
    expect(retryDelayMs({ ...exp, retry_backoff: 'fixed' }, 5)).toBe(1000)
  })

  it('doubles per attempt with jitter between 75% and 125%', () => {
    expect(retryDelayMs(exp, 1, () => 0)).toBe(750)
    expect(retryDelayMs(exp, 1, () => 1)).toBe(1250)
    expect(retryDelayMs(exp, 3, () => 0.5)).toBe(4000)
  })

  it('never exceeds the cap', () => {
    expect(retryDelayMs(exp, 10, () => 1)).toBe(10_000)
  })

  it('retries only while tries remain and the failure is retryable', () => {
    expect(shouldRetry(1, 3, false)).toBe(true)
    expect(shouldRetry(3, 3, false)).toBe(false)
    expect(shouldRetry(1, 3, true)).toBe(false)
  })

  it('allows up_for_retry -> scheduled but not success -> running', () => {
    expect(canTransition('up_for_retry', 'scheduled')).toBe(true)
    expect(canTransition('success', 'running')).toBe(false)
    expect(canTransition(null, 'running')).toBe(false)
    expect(canTransition('failed', 'queued')).toBe(false)
  })
})
