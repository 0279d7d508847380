/**
 * The project's error vocabulary. Few classes, each with a stable `code`, so callers branch on codes and people
 * read messages that name the file, field or value at fault.
 */

export class ForgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A DAG file or definition is invalid: cycles, duplicate ids, unknown edges, bad options. */
export class DagDefinitionError extends ForgeError {
  constructor(
    message: string,
    readonly details: { file?: string; line?: number; taskIds?: string[] } = {},
  ) {
    super('dag_definition', message)
  }
}

/** An environment variable or flag holds a value we cannot use; the message names it. */
export class ConfigError extends ForgeError {
  constructor(message: string) {
    super('config', message)
  }
}

/** Params (`--conf`) that fail the DAG's zod schema; `field` is the dotted path of the first bad field. */
export class ParamsError extends ForgeError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super('params', message)
  }
}

/**
 * What a command or request names does not exist: a DAG, a run, a task or an attempt (the API answers 404). The
 * message names it and says where to look.
 */
export class NotFoundError extends ForgeError {
  constructor(message: string) {
    super('not_found', message)
  }
}

/**
 * The request is valid but the current state refuses it: clearing a task that is running, marking a removed
 * instance (the API answers 409). The message says what to wait for or do first.
 */
export class ConflictError extends ForgeError {
  constructor(message: string) {
    super('conflict', message)
  }
}

/** A state change that the model does not allow (a bug or a lost race, never user input). */
export class StateTransitionError extends ForgeError {
  constructor(message: string) {
    super('state_transition', message)
  }
}

/**
 * Thrown by task code to control retries, like Temporal's ApplicationFailure: `TaskFailure.nonRetryable('bad
 * input: …')` fails the task at once and skips its remaining retries.
 */
export class TaskFailure extends ForgeError {
  constructor(
    message: string,
    readonly type = 'TaskFailure',
    readonly nonRetryable = false,
    options?: { cause?: unknown },
  ) {
    super('task_failure', message, options)
  }
  static retryable(message: string, type?: string): TaskFailure {
    return new TaskFailure(message, type, false)
  }
  static nonRetryable(message: string, type?: string): TaskFailure {
    return new TaskFailure(message, type, true)
  }
}

/** Turns anything thrown into an Error, keeping the original as `cause`. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err
  if (typeof err === 'string') return new Error(err)
  return new Error(`non-error thrown: ${safeJson(err)}`, { cause: err })
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v)
  } catch {
    return String(v)
  }
}
