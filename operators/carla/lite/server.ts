/**
 * Wires carla-lite together: the RPC port P, the streaming port P+1, and the Traffic Manager port, all bound to
 * the given host (127.0.0.1 by default) and all stopped by close() (graceful) or kill() (as if crashed).
 */
import { Engine } from './engine.ts'
import { carlaMethods, CARLA_VERSION, type TmRegistry } from './rpc/carla-methods.ts'
import { StreamServer } from './stream/stream-server.ts'
import { TrafficManager } from './tm/traffic-manager.ts'
import { tmMethods } from './tm/tm-methods.ts'
import { listenRpc, type RpcMethod, type RpcServer } from './wire/rpc-server.ts'
import { WORLD_STREAM_ID, World } from './world/world.ts'

export interface CarlaLiteOptions {
  /** RPC port; the stream port is port+1. 0 or undefined picks a free pair. */
  port?: number
  host?: string
  /** Traffic Manager port; 0 or undefined picks a free one. */
  tmPort?: number
  /** Seeds episode ids, pedestrian colours and the TM's per-vehicle speeds. */
  seed?: number
  log?: (msg: string) => void
}

export interface CarlaLiteHandle {
  rpcPort: number
  streamPort: number
  tmPort: number
  /** Ends every socket and timer so the process can exit. */
  close(): Promise<void>
  /** Destroys every socket without a goodbye and stops at once, like a crashed server. */
  kill(): void
  /** Per-image render cost so far (benchmarks, tests). */
  renderStats(): { images: number; renderMs: number }
}

export const IDENTITY = `carla-lite, a procedural stand-in for CARLA ${CARLA_VERSION}`
const PAIR_ATTEMPTS = 20

export async function startCarlaLite(opts: CarlaLiteOptions = {}): Promise<CarlaLiteHandle> {
  const host = opts.host ?? '127.0.0.1'
  const log = opts.log ?? (() => {})
  const methods = new Map<string, RpcMethod>()
  let world: World | null = null
  const isOpen = (id: number): boolean => id === WORLD_STREAM_ID || (!!world && [...world.actors.values()].some((a) => a.streamId === id))
  const { rpc, streams } = await bindPair(host, opts.port ?? 0, methods, isOpen, log)
  world = new World(opts.seed ?? 1, streams.port)
  const engine = new Engine(world, streams, log)
  const tm = new TrafficManager(engine)
  let tmServer: RpcServer
  try {
    tmServer = await listenRpc({ host, port: opts.tmPort ?? 0, name: 'carla-lite traffic manager', methods: tmMethods(engine, tm), log })
  } catch (err) {
    engine.stop()
    rpc.kill()
    streams.kill()
    throw err
  }
  const registry: TmRegistry = new Map([[tmServer.port, [host, tmServer.port]]])
  for (const [name, m] of carlaMethods(engine, registry, log)) methods.set(name, m)
  log(`${IDENTITY}: rpc ${host}:${rpc.port}, stream ${streams.port}, traffic manager ${tmServer.port}`)
  let stopped = false
  return {
    rpcPort: rpc.port,
    streamPort: streams.port,
    tmPort: tmServer.port,
    async close() {
      if (stopped) return
      stopped = true
      engine.stop()
      await Promise.all([rpc.close(), streams.close(), tmServer.close()])
      log('carla-lite stopped')
    },
    kill() {
      if (stopped) return
      stopped = true
      engine.stop()
      rpc.kill()
      streams.kill()
      tmServer.kill()
    },
    renderStats: () => ({ ...engine.stats }),
  }
}

/** Binds RPC on P and streaming on P+1; with P = 0 it retries until an ephemeral P has a free neighbour. */
async function bindPair(
  host: string,
  port: number,
  methods: Map<string, RpcMethod>,
  isOpen: (id: number) => boolean,
  log: (msg: string) => void,
): Promise<{ rpc: RpcServer; streams: StreamServer }> {
  for (let attempt = 1; ; attempt++) {
    const rpc = await listenRpc({ host, port, name: 'carla-lite rpc', methods, log })
    try {
      const streams = await StreamServer.listen({ host, port: rpc.port + 1, isOpen, log })
      return { rpc, streams }
    } catch (err) {
      rpc.kill()
      if (port !== 0 || attempt >= PAIR_ATTEMPTS || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    }
  }
}
