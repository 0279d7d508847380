import { describe, expect, it } from 'vitest'
import { INFRA_RETRY_DELAY_MS, decideFailure, retryWaitMs, type FailureFacts } from '../../../runtime/model/failure.ts'

const base: FailureFacts = {
  tryNumber: 1,
  maxTries: 2,
  nonRetryable: false,
  failureClass: 'task',
  infraFailures: 0,
  maxInfraRetries: 3,
  reason: 'boom',
}

describe('decideFailure', () => {
  it('spends a try on a task failure and retries while tries remain', () => {
    expect(decideFailure(base)).toEqual({ state: 'up_for_retry', refundsTry: false, spendsInfra: false, reason: 'boom (attempt 1 of 2; retrying)' })
    expect(decideFailure({ ...base, tryNumber: 2 })).toEqual({ state: 'failed', refundsTry: false, spendsInfra: false, reason: 'boom' })
  })

  it('fails a non-retryable task failure at once', () => {
    expect(decideFailure({ ...base, nonRetryable: true }).state).toBe('failed')
  })

  it('spends the infrastructure budget, never a try, on an infrastructure failure', () => {
    // The last try of a task without retries: a task failure here would fail it.
    const d = decideFailure({ ...base, tryNumber: 1, maxTries: 1, failureClass: 'infrastructure', reason: 'runner died' })
    expect(d).toEqual({
      state: 'up_for_retry',
      refundsTry: true,
      spendsInfra: true,
      reason: 'infrastructure: runner died; retrying, infrastructure retry 1 of 3',
    })
  })

  it('retries an infrastructure failure even when the task said non-retryable: that was not the task speaking', () => {
    expect(decideFailure({ ...base, failureClass: 'infrastructure', nonRetryable: true }).state).toBe('up_for_retry')
  })

  it('fails with a reason saying so once the infrastructure budget is spent', () => {
    const d = decideFailure({ ...base, maxTries: 10, failureClass: 'infrastructure', infraFailures: 3, reason: 'runner died' })
    expect(d).toEqual({
      state: 'failed',
      refundsTry: false,
      spendsInfra: true,
      reason: 'infrastructure: runner died; infrastructure retries spent (3 of 3)',
    })
    expect(decideFailure({ ...base, failureClass: 'infrastructure', maxInfraRetries: 0 }).reason).toBe(
      'infrastructure: boom; no infrastructure retries allowed (infraRetries: 0)',
    )
  })

  it('counts infrastructure retries up to the bound', () => {
    const reasons = [0, 1, 2, 3].map((n) => decideFailure({ ...base, failureClass: 'infrastructure', infraFailures: n }))
    expect(reasons.map((r) => r.state)).toEqual(['up_for_retry', 'up_for_retry', 'up_for_retry', 'failed'])
    expect(reasons[2]!.reason).toMatch(/infrastructure retry 3 of 3$/)
  })
})

describe('retryWaitMs', () => {
  const slow = { retry_delay_ms: 30 * 60_000, retry_backoff: 'exponential' as const, retry_max_delay_ms: 6 * 3_600_000 }
  const half = () => 0.5

  it("waits the task's backoff after a task failure", () => {
    expect(retryWaitMs(decideFailure({ ...base, tryNumber: 1, maxTries: 4 }), slow, 1, half)).toBe(30 * 60_000)
    expect(retryWaitMs(decideFailure({ ...base, tryNumber: 3, maxTries: 4 }), slow, 3, half)).toBe(120 * 60_000)
  })

  it("retries an infrastructure failure after a short fixed pause, whatever the task's backoff", () => {
    const infra = (tryNumber: number) =>
      decideFailure({ ...base, tryNumber, maxTries: 4, failureClass: 'infrastructure', infraFailures: tryNumber - 1 })
    expect([1, 2, 3].map((n) => retryWaitMs(infra(n), slow, n, half))).toEqual([INFRA_RETRY_DELAY_MS, INFRA_RETRY_DELAY_MS, INFRA_RETRY_DELAY_MS])
    // A task that retries sooner than that keeps its own delay.
    expect(retryWaitMs(infra(1), { ...slow, retry_delay_ms: 200 }, 1, half)).toBe(200)
  })
})
