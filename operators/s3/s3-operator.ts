/**
 * The task-facing side: factories that put an upload or a download into a DAG, and the thin adapter from the
 * task context to the transfer core. The core needs heartbeat details to resume a multipart upload in the next
 * attempt; a context without them (the runner's today) still skips finished objects, but restarts a large one.
 */
import type { FunctionTaskSpec, Ref, TaskContext } from '../../runtime/index.ts'
import { downloadPrefix, type DownloadResult } from './download-prefix.ts'
import type { S3OptionsInput } from './options.ts'
import type { TransferEnv, UploadDetails } from './transfer-env.ts'
import { uploadPrefix, type UploadResult } from './upload-prefix.ts'

type MaybeRef<T> = T | Ref<T>

export interface S3UploadInputs {
  /** The local folder to upload. */
  from: MaybeRef<string>
  /** s3://bucket/prefix/ */
  to: MaybeRef<string>
  options?: S3OptionsInput
}

export interface S3DownloadInputs {
  /** s3://bucket/prefix/ holding a manifest.json. */
  from: MaybeRef<string>
  /** The local folder to write into. */
  to: MaybeRef<string>
  options?: S3OptionsInput
}

/** The parts of an operator context the core can use when the runner provides them. */
interface ResumableContext {
  heartbeat?(details: unknown): void | Promise<void>
  previousDetails?: unknown
}

export function transferEnv(ctx: TaskContext<unknown, unknown, unknown>): TransferEnv {
  const extra = ctx as TaskContext<unknown, unknown, unknown> & ResumableContext
  return {
    signal: ctx.signal,
    log: ctx.log,
    progress: (done, total, unit) => ctx.progress(done, total, unit),
    heartbeat: extra.heartbeat ? (details: UploadDetails) => extra.heartbeat!(details) : undefined,
    previousDetails: extra.previousDetails,
  }
}

/** `dag.task('upload', s3Upload({ from: aug.out.dir, to: 's3://datasets/carla/v1/' }), { retries: 3 })` */
export function s3Upload(inputs: S3UploadInputs): FunctionTaskSpec<S3UploadInputs, UploadResult> {
  return {
    kind: 'function',
    operator: 's3.upload',
    inputs,
    run: (ctx) => uploadPrefix(ctx.inputs, transferEnv(ctx)),
    settings: { retries: 3, retryBackoff: 'exponential' },
  }
}

/** `dag.task('fetch', s3Download({ from: 's3://datasets/carla/v1/', to: 'datasets/carla/v1' }))` */
export function s3Download(inputs: S3DownloadInputs): FunctionTaskSpec<S3DownloadInputs, DownloadResult> {
  return {
    kind: 'function',
    operator: 's3.download',
    inputs,
    run: (ctx) => downloadPrefix(ctx.inputs, transferEnv(ctx)),
    settings: { retries: 3, retryBackoff: 'exponential' },
  }
}
