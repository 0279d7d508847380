/**
 * carla-lite: a procedural stand-in for CARLA 0.9.15. It speaks CARLA's RPC, streaming and Traffic Manager wire
 * protocols (docs/carla-protocol.md) and renders a simple synthetic road scene, for tests and as the embedded default
 * server of the dataset job. It is not CARLA: no physics, no Unreal rendering. See README.md.
 *
 * @example
 * const server = await startCarlaLite({ port: 0 })
 * // connect a CARLA client to 127.0.0.1:server.rpcPort, the TM at server.tmPort
 * await server.close()
 */
import { IDENTITY, startCarlaLite, type CarlaLiteHandle, type CarlaLiteOptions } from './server.ts'

export { startCarlaLite }
export type { CarlaLiteHandle, CarlaLiteOptions }

/**
 * Runs carla-lite until SIGINT or SIGTERM (the `forge carla-lite --port P` command). Defaults follow CARLA's:
 * RPC 2000, streaming 2001, Traffic Manager 8000.
 */
export async function runCarlaLite(opts: CarlaLiteOptions = {}): Promise<void> {
  const log = opts.log ?? ((msg: string) => process.stderr.write(`${new Date().toISOString()} ${msg}\n`))
  const server = await startCarlaLite({ ...opts, port: opts.port ?? 2000, tmPort: opts.tmPort ?? 8000, log })
  log(`${IDENTITY} is running (not CARLA); Ctrl-C to stop`)
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      log(`${signal}: shutting down`)
      resolve()
    }
    const onInt = (): void => stop('SIGINT')
    const onTerm = (): void => stop('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
  })
  await server.close()
}
