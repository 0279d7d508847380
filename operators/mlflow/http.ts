/**
 * One MLflow REST call over undici, with retries: `/api/2.0/mlflow/<path>` (or the artifact proxy's
 * `/api/2.0/mlflow-artifacts/<path>`), GET parameters in the query string (arrays as repeated keys), other methods
 * with a JSON body and `Content-Type: application/json` (the server refuses POSTs without it) or raw bytes for an
 * artifact upload, docs/mlflow-rest.md §1 and §5. 408, 429, 5xx and network failures are retried with
 * backoff; everything else fails at once with the class its `error_code` names.
 */
import type { Readable } from 'node:stream'
import { Agent, request, type Dispatcher } from 'undici'
import { backoffDelay, sleep } from './backoff.ts'
import { errorFromResponse, MlflowError, MlflowHttpError, MlflowNetworkError, RETRYABLE_STATUS } from './errors.ts'
import { authorizationHeader, type MlflowConnection } from './options.ts'

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>

export interface CallOptions {
  query?: Query
  body?: unknown
  signal?: AbortSignal
  /** 'mlflow' (tracking and registry, the default) or 'mlflow-artifacts' (the artifact proxy, §5). */
  service?: 'mlflow' | 'mlflow-artifacts'
  /** Raw bytes instead of a JSON body; a function, so that a retry sends them again from the start. */
  raw?: { body: () => Buffer | Readable; contentType: string; length?: number }
}

export interface HttpEnv {
  dispatcher?: Dispatcher
  /** Replaces the backoff wait (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Called before each retry. */
  onRetry?: (info: { endpoint: string; attempt: number; delayMs: number; error: MlflowError }) => void
}

export class MlflowHttp {
  private readonly base: string
  private readonly auth: string | undefined
  private readonly dispatcher: Dispatcher
  private readonly ownsDispatcher: boolean

  constructor(
    readonly connection: MlflowConnection & { trackingUri: string },
    private readonly env: HttpEnv = {},
  ) {
    this.base = connection.trackingUri.replace(/\/+$/, '')
    this.auth = authorizationHeader(connection)
    this.ownsDispatcher = !env.dispatcher
    this.dispatcher = env.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 })
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, opts: CallOptions = {}): Promise<T> {
    const endpoint = `${method} ${opts.service === 'mlflow-artifacts' ? 'mlflow-artifacts/' : ''}${path}`
    const wait = this.env.sleep ?? sleep
    for (let attempt = 0; ; attempt++) {
      let error: MlflowError
      try {
        return await this.once<T>(method, path, endpoint, opts)
      } catch (err) {
        if (!(err instanceof MlflowError)) throw err
        error = err
      }
      const retryable = error instanceof MlflowNetworkError || RETRYABLE_STATUS.has(error.status)
      if (!retryable || attempt >= this.connection.maxRetries || opts.signal?.aborted) throw error
      const delayMs = backoffDelay(attempt, this.connection.retryBaseMs, this.connection.retryMaxMs, error.retryAfter)
      this.env.onRetry?.({ endpoint, attempt: attempt + 1, delayMs, error })
      await wait(delayMs, opts.signal)
    }
  }

  private async once<T>(method: string, path: string, endpoint: string, opts: CallOptions): Promise<T> {
    const url = new URL(`${this.base}/api/2.0/${opts.service ?? 'mlflow'}/${path}`)
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item)
      else url.searchParams.append(k, String(v))
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'adas-forge-mlflow' }
    if (this.auth) headers.authorization = this.auth
    let body: string | Buffer | Readable | undefined
    if (opts.raw) {
      headers['content-type'] = opts.raw.contentType
      if (opts.raw.length !== undefined) headers['content-length'] = String(opts.raw.length)
      body = opts.raw.body()
    } else if (method !== 'GET') {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(opts.body ?? {})
    }
    let res: Dispatcher.ResponseData
    try {
      res = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: opts.signal,
        headersTimeout: this.connection.timeoutMs,
        bodyTimeout: this.connection.timeoutMs,
      })
    } catch (err) {
      if (opts.signal?.aborted) throw err
      throw new MlflowNetworkError(`MLflow ${endpoint}: no answer from ${this.base} (${(err as Error).message})`, 0, 'NETWORK', endpoint, {
        cause: err,
      })
    }
    let text: string
    try {
      text = await res.body.text()
    } catch (err) {
      throw new MlflowNetworkError(`MLflow ${endpoint}: the answer was cut off (${(err as Error).message})`, 0, 'NETWORK', endpoint, { cause: err })
    }
    const contentType = String(res.headers['content-type'] ?? '')
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const e = errorFromResponse(endpoint, res.statusCode, contentType, text)
      const ra = res.headers['retry-after']
      e.retryAfter = (Array.isArray(ra) ? ra[0] : ra) ?? null
      throw e
    }
    if (!contentType.includes('application/json')) {
      throw new MlflowHttpError(
        `MLflow ${endpoint}: expected JSON, got ${contentType || 'no content type'}: ${text.slice(0, 200)}`,
        res.statusCode,
        `HTTP_${res.statusCode}`,
        endpoint,
      )
    }
    return (text.trim() === '' ? {} : JSON.parse(text)) as T
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close()
  }
}
