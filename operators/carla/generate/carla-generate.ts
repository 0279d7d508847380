/**
 * The generation operator for one shard: set the world up, spawn, record, and on every exit path (success,
 * error, timeout, abort) destroy what we spawned and restore the episode settings, because a server left in
 * synchronous mode freezes for every other client.
 */
import { TaskFailure, coerceError, insideFolder, safeSegment, type TaskLogger } from '../../../runtime/index.ts'
import { CarlaClient } from '../client/carla-client.ts'
import { TrafficManagerClient } from '../client/traffic-manager-client.ts'
import { parseStreamToken } from '../client/stream-token.ts'
import { BufferRecycler } from '../client/buffer-recycler.ts'
import { subscribeStream } from '../client/stream-socket.ts'
import { parseScenario, shardName, type Scenario, type ScenarioInput } from '../scenario.ts'
import { abortable, throwIfAborted } from './abort.ts'
import { startEmbeddedServer } from './embedded-server.ts'
import { FrameCollector } from './frame-collector.ts'
import { record, warmUp, WORLD_STREAM } from './record-loop.ts'
import { ShardOutput, sensorKind } from './shard-output.ts'
import { planActors, spawnEgoAndSensors, spawnNpcs } from './spawn-actors.ts'
import { Phase, Teardown } from './teardown.ts'
import { applyWeather, checkVersion, enterSyncMode, loadMap, resolveMap, type WorldContext } from './world-setup.ts'
import { WriterPool } from './writer-pool.ts'

/** What a mapped `simulate` task receives per element. */
export interface CarlaShardItem {
  scenario: ScenarioInput
  /** 'embedded' (default) starts carla-lite, the procedural stand-in, in-process. */
  host?: string
  port?: number
  /** Traffic Manager port (default 8000; carla-lite reports its own). */
  tmPort?: number
  /** Parent folder; the shard writes to <outDir>/<shard> (default 'datasets/carla'). */
  outDir?: string
  /** Per-RPC timeout, ms (default 5000, as CARLA's client). */
  rpcTimeoutMs?: number
  /** Writer worker threads (default: cores, at most 4). */
  writers?: number
}

export interface ShardResult {
  shard: string
  dir: string
  frames: number
  labels: number
  bytes: number
}

export interface GenerateEnv {
  signal?: AbortSignal
  log?: TaskLogger
  progress?(done: number, total: number | null, unit: string): void
  /** Called once the manifest is written, before teardown: the shard is complete on disk from here on. */
  onRecorded?(result: ShardResult): Promise<void>
}

/** The checked scenario and the folder its shard is written to; throws on a bad spec or an unsafe name. */
export function shardLocation(item: CarlaShardItem): { scenario: Scenario; shard: string; dir: string } {
  const scenario = parseScenario(item.scenario) // rejects a bad spec before any connection
  // The shard folder is emptied first: a name that left outDir would wipe something else.
  const shard = safeSegment(shardName(scenario), 'shard name')
  return { scenario, shard, dir: insideFolder(item.outDir ?? 'datasets/carla', shard) }
}

export async function generateShard(item: CarlaShardItem, env: GenerateEnv = {}): Promise<ShardResult> {
  const { scenario, shard, dir } = shardLocation(item)
  const log = env.log ?? (() => {})
  const signal = env.signal
  const teardown = new Teardown()
  let result: ShardResult | null = null
  let failure: Error | null = null
  try {
    // Output first: an unwritable directory fails the shard before the server is touched. The writer threads
    // start loading sharp while the world is set up.
    const recycler = new BufferRecycler()
    const pool = new WriterPool({ workers: item.writers, recycle: (ab) => recycler.give(ab) })
    teardown.add(Phase.Server, 'stop writer threads', () => pool.close())
    const output = new ShardOutput(dir, pool, scenario.format)
    await output.prepare(scenario.sensors.map((s) => s.name))
    let host = item.host ?? 'embedded'
    let port = item.port ?? 2000
    let tmPort = item.tmPort ?? 8000
    if (host === 'embedded') {
      const server = await startEmbeddedServer()
      teardown.add(Phase.Server, 'stop carla-lite', () => server.close())
      ;[host, port, tmPort] = ['127.0.0.1', server.rpcPort, server.tmPort]
      log('started carla-lite (procedural stand-in, not CARLA)', { port })
    }
    // Not raced against the signal: a connection that completed after an abort would leak. Connect has its own timeout.
    const client = await CarlaClient.connect({ host, port, timeoutMs: item.rpcTimeoutMs })
    teardown.add(Phase.Connection, 'close rpc connection', () => client.close())
    throwIfAborted(signal)
    const w: WorldContext = { client, teardown, log, signal }
    const version = await checkVersion(w)
    const map = resolveMap(scenario.map, await abortable(client.getAvailableMaps(), signal))
    await loadMap(w, map)
    log(`loaded ${map}`, { shard })

    const collector = new FrameCollector()
    const subscribe = async (name: string, token: Uint8Array): Promise<void> => {
      // The id in the actor's token is asked for again: in multi-GPU mode the answer points at a secondary.
      const fresh = await abortable(client.getSensorToken(parseStreamToken(token).streamId), signal)
      collector.addStream(name)
      const sub = await subscribeStream({
        rpcHost: host,
        token: fresh,
        name: name === WORLD_STREAM ? 'world observer' : `sensor '${name}'`,
        onMessage: (msg) => collector.push(name, Number(msg.readBigUInt64LE(8)), msg),
        onError: (err) => collector.fail(err),
        allocate: (len) => recycler.alloc(len),
      })
      // All stream sockets close first: once settings are restored an async server would flood the observer.
      teardown.add(Phase.Sockets, `close stream ${name}`, () => sub.close())
    }
    // §6 order: observer, then sync mode. Until the first take the collector keeps only the newest message, so
    // the async-mode flood in between cannot overflow it.
    await subscribe(WORLD_STREAM, (await abortable(client.getEpisodeInfo(), signal)).token)
    await enterSyncMode(w, scenario.fixedDelta)

    let tm: TrafficManagerClient | null = null
    if (scenario.npcs.vehicles > 0) tm = await connectTrafficManager(host, tmPort, scenario.seed, teardown, log)
    await applyWeather(w, scenario)
    const [definitions, mapInfo] = await Promise.all([abortable(client.getActorDefinitions(), signal), abortable(client.getMapInfo(), signal)])
    const plan = planActors(scenario, definitions, mapInfo)
    const spawned = await spawnEgoAndSensors(w, plan)
    const npcs = await spawnNpcs(w, plan, spawned.npcIds)
    if (tm && npcs.vehicles.length) {
      const vehicles = await abortable(client.getActorsById(npcs.vehicles), signal)
      await tm.registerVehicles(vehicles)
      teardown.add(Phase.TrafficManager, 'unregister NPC vehicles', () => tm!.unregisterVehicles(vehicles))
    }
    for (const s of spawned.sensors) await subscribe(s.spec.name, s.actor.streamToken)

    const loop = {
      client,
      tm,
      collector,
      output,
      scenario,
      signal,
      sensors: spawned.sensors,
      egoId: spawned.ego.id,
      waitForWriter: () => pool.waitForRoom(),
      progress: env.progress,
    }
    await warmUp(loop)
    await record(loop)
    const bytes = await abortable(
      output.finish({
        shard,
        scenario,
        server: { host: item.host ?? 'embedded', version, map },
        sensors: spawned.sensors.map((s) => ({
          name: s.spec.name,
          blueprint: s.spec.blueprint,
          actorId: s.actor.id,
          kind: sensorKind(s.spec.blueprint),
          attributes: s.spec.attributes,
          transform: s.spec.transform,
          pixelFormat: scenario.format === 'raw' ? 'bgra8' : 'png',
        })),
        npcs: { vehicles: npcs.vehicles.length, pedestrians: npcs.walkers.length },
        createdAt: new Date().toISOString(),
      }),
      signal,
    )
    result = { shard, dir, frames: output.frames.length, labels: output.labels, bytes }
    await env.onRecorded?.(result)
  } catch (err) {
    failure = coerceError(err)
  }
  const report = await teardown.run()
  if (report.failed.length) log('teardown had failures', { failed: report.failed })
  if (failure) {
    if (report.failed.length) {
      failure.message += ` (teardown: ${report.failed.map((f) => `${f.step}: ${f.error}`).join('; ')})`
    }
    throw failure
  }
  if (report.failed.length) {
    throw TaskFailure.retryable(`shard ${shard} recorded, but cleanup failed: ${report.failed.map((f) => `${f.step}: ${f.error}`).join('; ')}`)
  }
  return result!
}

/**
 * The TM is a separate service (a Python sidecar with real CARLA; built into carla-lite). Without it NPC
 * vehicles still spawn but stand still, which we log rather than fail on.
 */
async function connectTrafficManager(
  host: string,
  port: number,
  seed: number,
  teardown: Teardown,
  log: TaskLogger,
): Promise<TrafficManagerClient | null> {
  try {
    const tm = await TrafficManagerClient.connect({ host, port })
    teardown.add(Phase.Connection, 'close traffic manager', () => tm.close())
    teardown.add(Phase.TrafficManager, 'traffic manager async mode', () => tm.setSynchronousMode(false))
    await tm.setSynchronousMode(true)
    await tm.setRandomDeviceSeed(seed)
    return tm
  } catch (err) {
    log(`no traffic manager at ${host}:${port} (${(err as Error).message}); NPC vehicles will not drive`)
    return null
  }
}

/** A mapped element is a CarlaShardItem or a bare scenario (then every setting comes from the config slice). */
export function toItem(item: CarlaShardItem | ScenarioInput): CarlaShardItem {
  return typeof item === 'object' && item !== null && 'scenario' in item ? item : { scenario: item as ScenarioInput }
}
