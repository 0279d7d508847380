/**
 * CARLA's result envelopes (`rpc/Response.h`). Every server method except `apply_batch` wraps its result:
 * - `Response<T>`: `[[1, value]]` on success, `[[0, [message]]]` on failure (a packed variant<ResponseError, T>).
 * - `Response<void>`: `[[false]]` on success, `[[true, [message]]]` on failure (a packed optional<ResponseError>).
 */
import { CarlaProtocolError, CarlaRpcError } from '../errors.ts'
import { arr, show } from './read.ts'

export function unwrapResponse(method: string, raw: unknown): unknown {
  const variant = arr(arr(raw, `${method} result`, 1)[0], `${method} Response`, 2)
  if (variant[0] === 1) return variant[1]
  if (variant[0] === 0) throw new CarlaRpcError(method, errorMessage(variant[1]))
  throw new CarlaProtocolError(`${method}: Response variant index must be 0 or 1, got ${show(variant[0])}`)
}

export function unwrapVoid(method: string, raw: unknown): void {
  const optional = arr(arr(raw, `${method} result`, 1)[0], `${method} Response<void>`, 1)
  if (optional[0] === false) return
  if (optional[0] === true) throw new CarlaRpcError(method, errorMessage(optional[1]))
  throw new CarlaProtocolError(`${method}: Response<void> must start with a bool, got ${show(optional[0])}`)
}

/** ResponseError is `[message]`; tolerate a bare string so a slightly different server still yields its text. */
export function errorMessage(v: unknown): string {
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0]
  if (typeof v === 'string') return v
  return `unreadable error ${show(v)}`
}
