/**
 * Errors from the CARLA client. Each names the method (or stream) and what happened, so a failed shard's log line
 * says "spawn_actor: Spawn failed because of collision at spawn position" rather than "unknown error".
 */
import { ForgeError } from '../../../runtime/index.ts'

/** The server answered with an error: rpclib's (a string) or CARLA's `Response` error (`[[0, [message]]]`). */
export class CarlaRpcError extends ForgeError {
  constructor(
    readonly method: string,
    readonly serverMessage: string,
  ) {
    super('carla_rpc', `${method}: ${serverMessage}`)
  }
}

/** No answer within the per-call timeout (CARLA's client default is 5000 ms). */
export class CarlaTimeoutError extends ForgeError {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super('carla_timeout', `${method}: no reply from the server within ${timeoutMs} ms`)
  }
}

/** The connection failed, closed, or was closed by us; every call still pending is rejected with this. */
export class CarlaConnectionError extends ForgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('carla_connection', message, options)
  }
}

/** The server sent bytes that do not match the layout in docs/carla-protocol.md. */
export class CarlaProtocolError extends ForgeError {
  constructor(message: string) {
    super('carla_protocol', message)
  }
}
