/**
 * The S3 operator's failures. Each extends the runtime's TaskFailure, so the runner knows whether another attempt
 * can help: a bad option, an unsafe key or a corrupted object cannot be fixed by retrying.
 */
import { TaskFailure } from '../../runtime/index.ts'

/** An option the schema refuses; the message names the field. */
export class S3OptionsError extends TaskFailure {
  constructor(message: string) {
    super(message, 'S3OptionsError', true)
  }
}

/** A prefix without a readable manifest.json: never taken for a complete upload. */
export class S3ManifestError extends TaskFailure {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message, 'S3ManifestError', true)
  }
}

/** An object whose bytes, size or recorded digest are not what they should be; the message names the key. */
export class S3IntegrityError extends TaskFailure {
  constructor(
    message: string,
    readonly key: string,
    readonly expected: string,
    readonly actual: string,
    nonRetryable = true,
  ) {
    super(message, 'S3IntegrityError', nonRetryable)
  }
}

/** A request that failed for good: a non-retryable answer, or every try used up. */
export class S3RequestError extends TaskFailure {
  constructor(
    message: string,
    readonly operation: string,
    readonly key: string,
    nonRetryable: boolean,
    cause: unknown,
  ) {
    super(message, 'S3RequestError', nonRetryable, { cause })
  }
}
