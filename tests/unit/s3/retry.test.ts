import { describe, expect, it } from 'vitest'
import { backoffMs, isRetryable, S3RequestError } from '../../../operators/s3/index.ts'
import { withRetry } from '../../../operators/s3/retry.ts'

const sdkError = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } })
const policy = { maxAttempts: 4, retryBaseDelayMs: 100, retryMaxDelayMs: 1_000 }

describe('s3 retry policy', () => {
  it.each([
    ['SlowDown 503', sdkError('SlowDown', 503), true],
    ['InternalError 500', sdkError('InternalError', 500), true],
    ['an unnamed 502', sdkError('Unknown', 502), true],
    ['429', sdkError('TooManyRequests', 429), true],
    ['RequestTimeout 400', sdkError('RequestTimeout', 400), true],
    ['a connection reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['socket hang up', new Error('socket hang up'), true],
    ['a request timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), true],
    ['a reset wrapped as cause', new Error('outer', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) }), true],
    ['AccessDenied 403', sdkError('AccessDenied', 403), false],
    ['NoSuchKey 404', sdkError('NoSuchKey', 404), false],
    ['NotImplemented 501', sdkError('NotImplemented', 501), false],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
    ['a plain bug', new TypeError('x is undefined'), false],
  ])('%s -> retryable %s', (_what, err, expected) => {
    expect(isRetryable(err)).toBe(expected)
  })

  it('backs off exponentially with full jitter, capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999])
    expect(backoffMs(3, policy, () => 0)).toBe(0)
    const samples = Array.from({ length: 200 }, () => backoffMs(3, policy))
    expect(Math.max(...samples)).toBeLessThan(400)
    expect(new Set(samples).size).toBeGreaterThan(50)
  })

  it('tries up to maxAttempts on retryable errors, then fails naming operation, key and tries', async () => {
    let calls = 0
    const retries: number[] = []
    const err = await withRetry(
      'UploadPart',
      'k part 3',
      { ...policy, retryBaseDelayMs: 1 },
      { onRetry: (i) => void retries.push(i.attempt) },
      async () => {
        calls++
        throw sdkError('SlowDown', 503)
      },
    ).catch((e: unknown) => e)
    expect(calls).toBe(4)
    expect(retries).toEqual([1, 2, 3])
    expect(err).toBeInstanceOf(S3RequestError)
    expect((err as S3RequestError).nonRetryable).toBe(false)
    expect((err as Error).message).toBe('UploadPart k part 3 failed after 4 tries: SlowDown, HTTP 503')
  })

  it('does not retry a non-retryable error, and succeeds once a retry does', async () => {
    let calls = 0
    await expect(
      withRetry('PutObject', 'k', policy, {}, async () => {
        calls++
        throw sdkError('AccessDenied', 403)
      }),
    ).rejects.toMatchObject({ nonRetryable: true, message: 'PutObject k failed: AccessDenied, HTTP 403' })
    expect(calls).toBe(1)
    let n = 0
    expect(
      await withRetry('GetObject', 'k', { ...policy, retryBaseDelayMs: 1 }, {}, async (attempt) =>
        ++n < 3 ? Promise.reject(sdkError('InternalError', 500)) : attempt,
      ),
    ).toBe(3)
  })

  it('stops waiting when the signal aborts', async () => {
    const ac = new AbortController()
    const p = withRetry('PutObject', 'k', { ...policy, retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 }, { signal: ac.signal }, async () => {
      throw sdkError('SlowDown', 503)
    })
    setTimeout(() => ac.abort(new Error('cancelled')), 20)
    await expect(p).rejects.toThrow('cancelled')
  })
})
