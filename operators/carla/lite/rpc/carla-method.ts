/**
 * Adapts a plain handler to CARLA's RPC conventions: the leading Metadata argument (`[false]` waited call, `[true]`
 * fire-and-forget), the Response<T> / Response<void> envelopes, and the game-thread queue for BIND_SYNC methods.
 *
 * Failure split: a TypeError from argument decoding is what rpclib's msgpack conversion would throw, so it bubbles
 * up to the rpc server and becomes an rpclib error string; any other Error is CARLA reporting a failure, which goes
 * into the Response envelope.
 */
import type { RpcMethod } from '../wire/rpc-server.ts'
import { fail, failVoid, ok, okVoid } from '../wire/carla-structs.ts'
import { toArr, type Wire } from '../wire/msgpack-wire.ts'
import type { Engine } from '../engine.ts'

export type ResultKind = 'value' | 'void' | 'raw'

export interface CarlaMethodSpec {
  /** Arguments after the metadata. */
  args: number
  result: ResultKind
  /** BIND_ASYNC: answered off the game thread (only version and get_available_maps in CARLA). */
  offThread?: boolean
  run(args: unknown[]): Wire | void | Promise<Wire | void>
}

/** What a default-constructed result looks like, sent at once for a `[true]` call. */
function defaultReply(kind: ResultKind): Wire {
  if (kind === 'void') return okVoid()
  if (kind === 'raw') return []
  // A default Response<T> holds the error alternative (docs/carla-protocol.md §1).
  return fail('unknown error')
}

export function carlaMethod(engine: Engine, spec: CarlaMethodSpec, log: (msg: string) => void, name: string): RpcMethod {
  const invoke = (args: unknown[]): Promise<Wire | void> =>
    spec.offThread ? Promise.resolve().then(() => spec.run(args)) : engine.run(() => spec.run(args))
  return {
    arity: spec.args + 1,
    async run(params) {
      const meta = toArr(params[0], 'Metadata', 1)
      const args = params.slice(1)
      if (meta[0] === true) {
        invoke(args).catch((err) => log(`${name} (async call) failed: ${(err as Error).message}`))
        return defaultReply(spec.result)
      }
      try {
        const value = await invoke(args)
        if (spec.result === 'void') return okVoid()
        if (spec.result === 'raw') return value as Wire
        return ok(value as Wire)
      } catch (err) {
        if (err instanceof TypeError || spec.result === 'raw') throw err
        const message = err instanceof Error ? err.message : String(err)
        return spec.result === 'void' ? failVoid(message) : fail(message)
      }
    },
  }
}
