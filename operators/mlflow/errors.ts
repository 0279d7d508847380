/**
 * MLflow's failures as classes keyed by the server's `error_code` (docs/mlflow-rest.md §1.1): callers branch on
 * the class or `errorCode`, never on the HTTP status (RESOURCE_ALREADY_EXISTS is a 400, not a 409) or on the
 * message (which can hold raw SQL). Bodies that are not MLflow JSON (an HTML 404 for an unknown route, a
 * plain-text 401 from the auth app, a 403 from the Host check) become MlflowHttpError.
 */
import { TaskFailure } from '../../runtime/index.ts'

/** Status codes worth another attempt, as the Python client retries them (§1.1). */
export const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504])

export class MlflowError extends TaskFailure {
  /** The server's Retry-After header, when it sent one. */
  retryAfter: string | null = null

  constructor(
    message: string,
    readonly status: number,
    /** The server's `error_code`, or 'HTTP_<status>' for a non-JSON answer, or 'NETWORK' when none came. */
    readonly errorCode: string,
    readonly endpoint: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'MlflowError', !(RETRYABLE_STATUS.has(status) || errorCode === 'NETWORK'), options)
  }
}

export class ResourceAlreadyExistsError extends MlflowError {}
export class ResourceDoesNotExistError extends MlflowError {}
export class InvalidParameterValueError extends MlflowError {}
export class PermissionDeniedError extends MlflowError {}
export class UnauthenticatedError extends MlflowError {}
/** 429 or REQUEST_LIMIT_EXCEEDED / RESOURCE_EXHAUSTED. */
export class RateLimitedError extends MlflowError {}
/** A 5xx with an MLflow body (INTERNAL_ERROR, TEMPORARILY_UNAVAILABLE, …). */
export class ServerError extends MlflowError {}
/** An answer that is not MLflow's JSON error shape. */
export class MlflowHttpError extends MlflowError {}
/** The request never got an answer (refused, reset, timed out). */
export class MlflowNetworkError extends MlflowError {}
/** Refused before sending: the request breaks one of MLflow's limits or rules (§3.3, §3.4, §4.4). */
export class MlflowValidationError extends MlflowError {
  constructor(
    message: string,
    endpoint: string,
    readonly field: string,
  ) {
    super(message, 0, 'CLIENT_VALIDATION', endpoint)
  }
}

type ErrorClass = new (message: string, status: number, errorCode: string, endpoint: string) => MlflowError

const BY_CODE: Record<string, ErrorClass> = {
  RESOURCE_ALREADY_EXISTS: ResourceAlreadyExistsError,
  RESOURCE_DOES_NOT_EXIST: ResourceDoesNotExistError,
  NOT_FOUND: ResourceDoesNotExistError,
  INVALID_PARAMETER_VALUE: InvalidParameterValueError,
  BAD_REQUEST: InvalidParameterValueError,
  PERMISSION_DENIED: PermissionDeniedError,
  UNAUTHENTICATED: UnauthenticatedError,
  CUSTOMER_UNAUTHORIZED: UnauthenticatedError,
  REQUEST_LIMIT_EXCEEDED: RateLimitedError,
  RESOURCE_EXHAUSTED: RateLimitedError,
}

/** Builds the error for a non-2xx answer from its status, content type and body text. */
export function errorFromResponse(endpoint: string, status: number, contentType: string, body: string): MlflowError {
  if (contentType.includes('application/json')) {
    try {
      const parsed = JSON.parse(body) as { error_code?: unknown; message?: unknown }
      if (typeof parsed.error_code === 'string') {
        const message = `MLflow ${endpoint}: ${parsed.error_code} (HTTP ${status}): ${typeof parsed.message === 'string' ? parsed.message : ''}`
        const cls = BY_CODE[parsed.error_code] ?? (status === 429 ? RateLimitedError : status >= 500 ? ServerError : MlflowError)
        return new cls(message, status, parsed.error_code, endpoint)
      }
    } catch {
      // not JSON after all: reported as an HTTP error below
    }
  }
  const text = body
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300)
  const cls: ErrorClass =
    status === 401 ? UnauthenticatedError : status === 403 ? PermissionDeniedError : status === 429 ? RateLimitedError : MlflowHttpError
  const hint = status === 404 ? ' (no such endpoint: is the URI an MLflow tracking server, and new enough for this call?)' : ''
  return new cls(`MLflow ${endpoint}: HTTP ${status}${hint}: ${text}`, status, `HTTP_${status}`, endpoint)
}
