/**
 * The dvc operator's failures. Bad input (a path outside the repository, a bad dataset name) is non-retryable;
 * a failed push or git call may be retried.
 */
import { TaskFailure } from '../../runtime/index.ts'

export class DvcError extends TaskFailure {
  constructor(
    message: string,
    readonly reason: string,
    nonRetryable = true,
    options?: { cause?: unknown },
  ) {
    super(message, 'DvcError', nonRetryable, options)
  }
}

/** A push that did not complete; nothing was committed or tagged. */
export class DvcPushError extends DvcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'push_failed', false, options)
  }
}

/**
 * An object that is missing on the remote, or whose bytes do not hash to the id the manifest (or the `.dvc` file)
 * names (`actual` is then its md5, else 'missing'): retrying the pull cannot fix the remote.
 */
export class DvcDigestError extends DvcError {
  constructor(
    message: string,
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(message, actual === 'missing' ? 'missing_object' : 'digest_mismatch', true)
  }
}
