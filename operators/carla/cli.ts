/**
 * `forge carla info|record`, as functions the main CLI wires up. Failures are thrown (ForgeError subclasses with
 * a `code`: 'carla_connection', 'carla_rpc', 'carla_timeout', 'task_failure' for a bad scenario…), so the caller
 * decides exit codes; results go to stdout, progress and logs to stderr.
 */
import { readFile } from 'node:fs/promises'
import { CarlaClient } from './client/carla-client.ts'
import { startEmbeddedServer } from './generate/embedded-server.ts'
import { generateShard, type ShardResult } from './generate/carla-generate.ts'
import { EXPECTED_VERSION } from './generate/world-setup.ts'
import { ScenarioError } from './scenario.ts'

export interface CarlaInfoOptions {
  host?: string
  port?: number
  json?: boolean
  /** Where lines go (default stdout). */
  print?: (line: string) => void
}

export interface CarlaInfo {
  host: string
  port: number
  version: string
  versionMatches: boolean
  map: string
  maps: string[]
  blueprints: number
}

export async function carlaInfo(opts: CarlaInfoOptions = {}): Promise<CarlaInfo> {
  const print = opts.print ?? ((l: string) => void process.stdout.write(l + '\n'))
  let host = opts.host ?? 'embedded'
  let port = opts.port ?? 2000
  const embedded = host === 'embedded' ? await startEmbeddedServer() : null
  if (embedded) [host, port] = ['127.0.0.1', embedded.rpcPort]
  try {
    const client = await CarlaClient.connect({ host, port })
    try {
      const [version, maps, mapInfo, defs] = await Promise.all([
        client.version(),
        client.getAvailableMaps(),
        client.getMapInfo(),
        client.getActorDefinitions(),
      ])
      const info: CarlaInfo = {
        host: embedded ? 'embedded (carla-lite, a procedural stand-in)' : host,
        port,
        version,
        versionMatches: version === EXPECTED_VERSION,
        map: mapInfo.name,
        maps,
        blueprints: defs.length,
      }
      if (opts.json) print(JSON.stringify(info))
      else {
        print(`server     ${embedded ? `${info.host} at 127.0.0.1:${port}` : `${host}:${port}`}`)
        print(`version    ${version}${info.versionMatches ? '' : ` (client expects ${EXPECTED_VERSION})`}`)
        print(`map        ${info.map}`)
        print(`maps       ${maps.map((m) => m.split('/').pop()).join(', ')}`)
        print(`blueprints ${defs.length}`)
      }
      return info
    } finally {
      client.close()
    }
  } finally {
    await embedded?.close()
  }
}

export interface CarlaRecordOptions {
  host?: string
  port?: number
  tmPort?: number
  scenarioFile: string
  outDir?: string
  print?: (line: string) => void
  /** Defaults to aborting on SIGINT/SIGTERM, so the server is always restored. */
  signal?: AbortSignal
}

/** Records one shard; prints the result as JSON. Ctrl-C aborts cleanly (actors destroyed, settings restored). */
export async function carlaRecord(opts: CarlaRecordOptions): Promise<ShardResult> {
  const print = opts.print ?? ((l: string) => void process.stdout.write(l + '\n'))
  let scenario: unknown
  try {
    scenario = JSON.parse(await readFile(opts.scenarioFile, 'utf8'))
  } catch (err) {
    throw new ScenarioError(`cannot read scenario ${opts.scenarioFile} as JSON: ${(err as Error).message}`, '(file)')
  }
  const ac = new AbortController()
  const onSignal = (sig: NodeJS.Signals): void => ac.abort(new Error(`received ${sig}`))
  if (!opts.signal) {
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  try {
    const result = await generateShard(
      { scenario: scenario as never, host: opts.host, port: opts.port, tmPort: opts.tmPort, outDir: opts.outDir },
      {
        signal: opts.signal ?? ac.signal,
        log: (message, fields) => process.stderr.write(`${message}${fields ? ' ' + JSON.stringify(fields) : ''}\n`),
        progress: (done, total, unit) => {
          if (done === total || done % 10 === 0) process.stderr.write(`${done}/${total ?? '?'} ${unit}\n`)
        },
      },
    )
    print(JSON.stringify(result))
    return result
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
