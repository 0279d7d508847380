/**
 * The training operator's failures. A trainer that exits non-zero may be retried; a missing or malformed result
 * line, a bad option or a 4xx from a webhook cannot be fixed by retrying.
 */
import { TaskFailure } from '../../runtime/index.ts'

export class TrainingError extends TaskFailure {
  constructor(
    message: string,
    readonly reason: string,
    nonRetryable = true,
    options?: { cause?: unknown },
  ) {
    super(message, 'TrainingError', nonRetryable, options)
  }
}

/** A webhook call that failed; `status` is 0 when no answer came. */
export class WebhookError extends TrainingError {
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
    nonRetryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, nonRetryable ? 'webhook_refused' : 'webhook_failed', nonRetryable, options)
  }
}
