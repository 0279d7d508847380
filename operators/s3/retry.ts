/**
 * Retries for S3 requests: throttling, 5xx and dropped connections are tried again after a jittered exponential
 * backoff; anything else (403, 404, a bad request) fails at once. The SDK's own retries are turned off (see
 * client.ts) so there is one policy, and one count, per request.
 */
import { S3RequestError } from './errors.ts'

export interface RetryPolicy {
  maxAttempts: number
  retryBaseDelayMs: number
  retryMaxDelayMs: number
}

/** Error names S3 and compatible servers give to "slow down, try again" answers, whatever their status. */
const THROTTLING = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalError',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
])

/** Socket-level failures: the request may not have reached the server, or its answer was lost. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
])

interface ErrorShape {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
  cause?: unknown
}

/** Whether trying the same request again can succeed. */
export function isRetryable(err: unknown): boolean {
  const e = (err ?? {}) as ErrorShape
  if (e.name === 'AbortError' || e.name === 'NotImplemented') return false
  const status = e.$metadata?.httpStatusCode
  if (status !== undefined && status !== 501 && (status >= 500 || status === 429)) return true
  if (e.name && THROTTLING.has(e.name)) return true
  if (e.name === 'TimeoutError' || (e.code && NETWORK_CODES.has(e.code))) return true
  if (typeof e.message === 'string' && /socket hang up|ECONNRESET|premature close/i.test(e.message)) return true
  return e.cause !== undefined && e.cause !== err && isRetryable(e.cause)
}

/** Full jitter (AWS's recommendation): uniform in [0, min(cap, base * 2^(try-1))]. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.retryMaxDelayMs, policy.retryBaseDelayMs * 2 ** (attempt - 1))
  return Math.floor(random() * ceiling)
}

export interface RetryEnv {
  signal?: AbortSignal
  /** Told about every retry, so throttling shows in the log. */
  onRetry?(info: { operation: string; key: string; attempt: number; delayMs: number; error: string }): void
}

/** Runs `fn` until it succeeds, fails for good, or the policy's tries are used up; `fn` gets the try number. */
export async function withRetry<T>(
  operation: string,
  key: string,
  policy: RetryPolicy,
  env: RetryEnv,
  fn: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    env.signal?.throwIfAborted()
    try {
      return await fn(attempt)
    } catch (err) {
      if (env.signal?.aborted) throw env.signal.reason
      const retryable = isRetryable(err)
      if (!retryable || attempt >= policy.maxAttempts) {
        const tries = retryable ? ` after ${attempt} tries` : ''
        throw new S3RequestError(`${operation} ${key} failed${tries}: ${describe(err)}`, operation, key, !retryable, err)
      }
      const delayMs = backoffMs(attempt, policy)
      env.onRetry?.({ operation, key, attempt, delayMs, error: describe(err) })
      await sleep(delayMs, env.signal)
    }
  }
}

export function describe(err: unknown): string {
  const e = (err ?? {}) as ErrorShape
  const status = e.$metadata?.httpStatusCode
  const parts = [e.name && e.name !== 'Error' ? e.name : e.code, status ? `HTTP ${status}` : undefined].filter(Boolean)
  const msg = e.message && e.message !== e.name && e.message !== 'UnknownError' ? e.message : ''
  return [parts.join(', '), msg].filter(Boolean).join(': ') || String(err)
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms <= 0) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    function onAbort(): void {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
