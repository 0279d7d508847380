import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../../operators/mlflow/backoff.ts'
import {
  errorFromResponse,
  InvalidParameterValueError,
  MlflowHttpError,
  PermissionDeniedError,
  RateLimitedError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  ServerError,
  UnauthenticatedError,
} from '../../../operators/mlflow/errors.ts'
import { authorizationHeader } from '../../../operators/mlflow/options.ts'
import { splitBatches } from '../../../operators/mlflow/limits.ts'

const json = 'application/json'

describe('errors from MLflow answers', () => {
  it('the class follows error_code, not the status', () => {
    const dup = errorFromResponse(
      'POST experiments/create',
      400,
      json,
      '{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Experiment(name=x) already exists. [SQL: INSERT …]"}',
    )
    expect(dup).toBeInstanceOf(ResourceAlreadyExistsError)
    expect(dup).toMatchObject({ status: 400, errorCode: 'RESOURCE_ALREADY_EXISTS', nonRetryable: true })
    expect(errorFromResponse('e', 404, json, '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "m"}')).toBeInstanceOf(ResourceDoesNotExistError)
    expect(errorFromResponse('e', 400, json, '{"error_code": "INVALID_PARAMETER_VALUE", "message": "m"}')).toBeInstanceOf(InvalidParameterValueError)
    expect(errorFromResponse('e', 400, json, '{"error_code": "BAD_REQUEST", "message": "m"}')).toBeInstanceOf(InvalidParameterValueError)
    const busy = errorFromResponse('e', 503, json, '{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "m"}')
    expect(busy).toBeInstanceOf(ServerError)
    expect(busy.nonRetryable).toBe(false)
    expect(errorFromResponse('e', 429, json, '{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "m"}')).toBeInstanceOf(RateLimitedError)
  })

  it("non-JSON bodies: HTML 404, the auth app's plain-text 401, the Host check's 403", () => {
    const html = errorFromResponse('GET nope', 404, 'text/html; charset=utf-8', '<!doctype html>\n<title>404 Not Found</title><h1>Not Found</h1>')
    expect(html).toBeInstanceOf(MlflowHttpError)
    expect(html.message).toContain('404 Not Found Not Found')
    expect(errorFromResponse('e', 401, 'text/html', 'You are not authenticated.')).toBeInstanceOf(UnauthenticatedError)
    expect(errorFromResponse('e', 403, 'text/plain', 'Invalid Host header - possible DNS rebinding attack detected')).toBeInstanceOf(
      PermissionDeniedError,
    )
  })
})

describe('backoff, auth header and batching', () => {
  it('doubles from the base with jitter in [50%, 100%], capped, and honours Retry-After', () => {
    expect(backoffDelay(0, 500, 30_000, null, () => 0)).toBe(250)
    expect(backoffDelay(3, 500, 30_000, null, () => 1)).toBe(4000)
    expect(backoffDelay(10, 500, 30_000, null, () => 1)).toBe(30_000)
    expect(backoffDelay(0, 500, 30_000, '3')).toBe(3000)
    expect(backoffDelay(0, 500, 30_000, '120')).toBe(30_000)
  })

  it("Basic wins over a token, as in MLflow's client", () => {
    expect(authorizationHeader({ username: 'admin', password: 'password1234', token: 't' })).toBe('Basic YWRtaW46cGFzc3dvcmQxMjM0')
    expect(authorizationHeader({ token: 'abc123' })).toBe('Bearer abc123')
    expect(authorizationHeader({})).toBeUndefined()
  })

  it('keeps each request within 100 params, 100 tags, 1000 metrics and 1000 entities', () => {
    const batches = splitBatches({
      params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: 'x' })),
      tags: Array.from({ length: 1 }, (_, i) => ({ key: `t${i}`, value: 'x' })),
      metrics: Array.from({ length: 900 }, (_, i) => ({ key: 'm', value: i, timestamp: 1 })),
    })
    expect(batches.map((b) => b.params.length + b.tags.length + b.metrics.length)).toEqual([1000, 1])
    const big = splitBatches({
      params: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 'v'.repeat(6000) })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'v'.repeat(8000) })),
    })
    for (const b of big) expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThan(1_000_000)
    expect(
      splitBatches({
        params: [
          { key: 'd', value: '1' },
          { key: 'd', value: '1' },
        ],
      })[0]!.params,
    ).toHaveLength(1)
    expect(() =>
      splitBatches({
        params: [
          { key: 'd', value: '1' },
          { key: 'd', value: '2' },
        ],
      }),
    ).toThrow(/given twice/)
  })
})
