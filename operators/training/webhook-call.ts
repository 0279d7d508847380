/**
 * One HTTP call to an external training system, with retries: 408, 429, 5xx and network failures are retried
 * with exponential backoff and jitter (a Retry-After is honoured); any other 4xx fails at once, non-retryable,
 * with the response body in the error, since sending the same request again cannot change the answer.
 */
import { request, type Dispatcher } from 'undici'
import type { TaskContext } from '../../runtime/index.ts'
import { backoffDelay, sleep } from '../mlflow/index.ts'
import { WebhookError } from './errors.ts'

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504])

export interface RetryPolicy {
  maxRetries: number
  baseMs: number
  maxMs: number
  timeoutMs: number
}

export interface CallEnv {
  signal?: AbortSignal
  log?: TaskContext['log']
  dispatcher?: Dispatcher
  /** Replaces the backoff wait (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

export interface CallResult {
  status: number
  headers: Record<string, string>
  /** Parsed JSON when the answer says it is JSON, else the text. */
  body: unknown
  attempts: number
}

async function once(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  policy: RetryPolicy,
  env: CallEnv,
): Promise<Omit<CallResult, 'attempts'> & { text: string }> {
  const res = await request(url, {
    method,
    headers,
    body,
    signal: env.signal,
    dispatcher: env.dispatcher,
    headersTimeout: policy.timeoutMs,
    bodyTimeout: policy.timeoutMs,
  })
  const text = await res.body.text()
  const flat = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]))
  let parsed: unknown = text
  if (flat['content-type']?.includes('json') && text.trim()) {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = text
    }
  }
  return { status: res.statusCode, headers: flat, body: parsed, text }
}

export async function callWithRetries(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  policy: RetryPolicy,
  env: CallEnv = {},
): Promise<CallResult> {
  const wait = env.sleep ?? sleep
  for (let attempt = 0; ; attempt++) {
    let failure: WebhookError
    let retryAfter: string | null = null
    try {
      const r = await once(method, url, headers, body, policy, env)
      if (r.status >= 200 && r.status < 300) return { status: r.status, headers: r.headers, body: r.body, attempts: attempt + 1 }
      const retryable = RETRYABLE.has(r.status)
      failure = new WebhookError(
        `${method} ${url} answered HTTP ${r.status}${retryable ? '' : ' (not retried)'}: ${r.text.slice(0, 2000)}`,
        r.status,
        r.text,
        !retryable,
      )
      retryAfter = r.headers['retry-after'] ?? null
    } catch (err) {
      if (env.signal?.aborted) throw err
      failure = new WebhookError(`${method} ${url}: no answer (${(err as Error).message})`, 0, '', false, { cause: err })
    }
    if (failure.nonRetryable || attempt >= policy.maxRetries) throw failure
    const delayMs = backoffDelay(attempt, policy.baseMs, policy.maxMs, retryAfter)
    env.log?.(`${method} ${url} failed (${failure.status || 'no answer'}); retry ${attempt + 1} of ${policy.maxRetries} in ${delayMs} ms`)
    await wait(delayMs, env.signal)
  }
}
