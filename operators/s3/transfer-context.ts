/** What every step of one transfer shares: the client, the options, the destination, and the runner's hooks. */
import type { S3Client } from '@aws-sdk/client-s3'
import type { S3Options } from './options.ts'
import type { S3Location } from './location.ts'
import type { RetryEnv } from './retry.ts'
import { withRetry } from './retry.ts'
import { Semaphore } from './pool.ts'
import type { TransferEnv, TransferLogger } from './transfer-env.ts'

export interface TransferContext {
  client: S3Client
  options: S3Options
  loc: S3Location
  log: TransferLogger
  /** Counts bytes done and reports them as progress. */
  bytes: ByteProgress
  /** Retries of requests, by operation (for the result and the log). */
  retries: Record<string, number>
  /** Parts in flight across all objects (options.partConcurrency). */
  partSlots: Semaphore
  /** Runs one request under the retry policy. */
  request<T>(operation: string, key: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T>
}

export class ByteProgress {
  done = 0
  /** Set once known (a download learns it from the manifest). */
  constructor(
    public total: number,
    private readonly report?: TransferEnv['progress'],
  ) {}
  add(n: number): void {
    this.done += n
    this.report?.(this.done, this.total, 'bytes')
  }
}

export function transferContext(client: S3Client, options: S3Options, loc: S3Location, env: TransferEnv, total: number): TransferContext {
  const log = env.log ?? (() => {})
  const retries: Record<string, number> = {}
  return {
    client,
    options,
    loc,
    log,
    retries,
    partSlots: new Semaphore(options.partConcurrency),
    bytes: new ByteProgress(total, env.progress),
    request(operation, key, signal, fn) {
      const retryEnv: RetryEnv = {
        signal,
        onRetry: (info) => {
          retries[operation] = (retries[operation] ?? 0) + 1
          log(`retrying ${operation} ${key} in ${info.delayMs} ms (try ${info.attempt} failed: ${info.error})`, { ...info })
        },
      }
      return withRetry(operation, key, options, retryEnv, () => fn(signal))
    },
  }
}

/** The HTTP status of an SDK error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode
}

/** The SDK error a request failure wraps (S3RequestError keeps it as `cause`). */
export function rootCause(err: unknown): unknown {
  let e = err as { cause?: unknown } | null
  while (e && typeof e === 'object' && e.cause && (e as { name?: string }).name === 'S3RequestError') e = e.cause as { cause?: unknown }
  return e
}

export function isNotFound(err: unknown): boolean {
  const e = rootCause(err) as { name?: string } | null
  return statusOf(e) === 404 || e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchUpload'
}
