/**
 * The simulated world's state and the operations RPC handlers perform on it: episodes, settings, weather and
 * actors. It knows nothing about sockets or time; the engine (engine.ts) ticks it and publishes frames.
 */
import { defaultSettings, defaultWeather, idleControl, type ActorDescription, type EpisodeSettings, type Weather } from '../wire/carla-structs.ts'
import { makeToken } from '../stream/token.ts'
import { attributeValue, worldTransform, type CameraSpec, type SimActor } from './actor.ts'
import { blueprint } from './blueprints.ts'
import { collidesWithAny } from './collision.ts'
import { compose, rot, vec, type Transform } from './geom.ts'
import { makeRng, type Rng } from './rng.ts'
import { DEFAULT_MAP, findMap, type RoadLayout } from './road-map.ts'

/** The world observer is always stream 1 (Dispatcher::MakeStream counts from 1). */
export const WORLD_STREAM_ID = 1

export class World {
  episodeId: number
  map: RoadLayout
  settings: EpisodeSettings = defaultSettings()
  weather: Weather = defaultWeather()
  /** Bumped on every weather change, so renderers know to rebuild cached backgrounds. */
  weatherVersion = 0
  frame = 0
  elapsed = 0
  /** SimulationState flags for the next world-state message (MapChange after a load). */
  pendingState = 0
  readonly actors = new Map<number, SimActor>()
  spectatorId = 0
  readonly rng: Rng
  private nextActorId = 1
  private nextStreamId = WORLD_STREAM_ID + 1
  /** Called when a sensor goes away, so its stream sessions can be closed. */
  onStreamClosed: (streamId: number) => void = () => {}

  constructor(
    readonly seed: number,
    readonly streamPort: number,
  ) {
    this.rng = makeRng(seed)
    this.episodeId = 1 + Math.floor(this.rng() * 0x7fffffff)
    this.map = findMap(DEFAULT_MAP)!
    this.spawnSpectator()
  }

  loadEpisode(mapName: string, resetSettings: boolean): void {
    const map = findMap(mapName)
    if (!map) throw new Error(`map '${mapName}' not found`)
    for (const a of [...this.actors.values()]) this.remove(a)
    this.map = map
    this.episodeId += 1
    this.pendingState |= 1
    if (resetSettings) this.settings = defaultSettings()
    this.spawnSpectator()
  }

  setWeather(w: Weather): void {
    this.weather = w
    this.weatherVersion++
  }

  spawn(desc: ActorDescription, requested: Transform, parentId = 0): SimActor {
    const bp = blueprint(desc.uid)
    if (!bp || bp.def.id !== desc.id) throw new Error('Invalid ActorDescription')
    const parent = parentId ? this.actors.get(parentId) : undefined
    if (parentId && !parent) throw new Error(`unable to attach actor: parent actor ${parentId} not found`)
    // Every blueprint attribute, overridden by what the client sent (Python sends them all anyway).
    const given = new Map(desc.attributes.map((a) => [a.id, a.value]))
    const attributes = bp.def.attributes.map((a) => ({ id: a.id, type: a.type, value: given.get(a.id) ?? a.value }))
    const description: ActorDescription = { uid: desc.uid, id: desc.id, attributes }
    const { kind, extent, tag } = bp.info
    const body = kind === 'vehicle' || kind === 'walker'
    // No physics: bodies are settled straight onto the road (z = 0 is the ground everywhere).
    let transform = requested
    if (body && !parent)
      transform = { location: vec(requested.location.x, requested.location.y, kind === 'walker' ? extent.z : 0), rotation: requested.rotation }
    const box = { location: vec(0, 0, kind === 'vehicle' ? extent.z : 0), extent, rotation: rot() }
    if (body) {
      const world = parent ? compose(worldTransform(parent, this.actors), transform) : transform
      const others = [...this.actors.values()].map((actor) => ({ actor, world: worldTransform(actor, this.actors) }))
      if (collidesWithAny(box, world, others)) throw new Error('Spawn failed because of collision at spawn position')
    }
    const id = this.nextActorId++
    const streamId = body ? 0 : this.nextStreamId++
    const actor: SimActor = {
      id,
      parentId: parent ? parentId : 0,
      description,
      info: bp.info,
      box,
      tags: new Uint8Array(body ? [tag] : []),
      streamId,
      token: streamId ? makeToken(streamId, this.streamPort) : new Uint8Array(0),
      transform,
      velocity: vec(),
      control: kind === 'vehicle' ? idleControl() : null,
      speed: 0,
      tmDriven: false,
      autopilot: false,
      color: this.colorFor(description, kind),
      camera: body ? null : cameraSpec(description),
    }
    this.actors.set(id, actor)
    return actor
  }

  destroy(id: number): boolean {
    const a = this.actors.get(id)
    if (!a || id === this.spectatorId) throw new Error(`unable to destroy actor: not found`)
    this.remove(a)
    return true
  }

  get(id: number): SimActor | undefined {
    return this.actors.get(id)
  }

  private remove(a: SimActor): void {
    // Children stay where they are, detached, as UE leaves attached actors alive when their parent dies.
    for (const child of this.actors.values()) {
      if (child.parentId === a.id) {
        child.transform = worldTransform(child, this.actors)
        child.parentId = 0
      }
    }
    this.actors.delete(a.id)
    if (a.streamId) this.onStreamClosed(a.streamId)
  }

  private spawnSpectator(): void {
    const id = this.nextActorId++
    this.spectatorId = id
    this.actors.set(id, {
      id,
      parentId: 0,
      description: { uid: 0, id: 'spectator', attributes: [] },
      info: null,
      box: { location: vec(), extent: vec(), rotation: rot() },
      tags: new Uint8Array(0),
      streamId: 0,
      token: new Uint8Array(0),
      transform: { location: vec(-30, 0, 20), rotation: rot(-25, 0, 0) },
      velocity: vec(),
      control: null,
      speed: 0,
      tmDriven: false,
      autopilot: false,
      color: [0, 0, 0],
      camera: null,
    })
  }

  private colorFor(desc: ActorDescription, kind: string): [number, number, number] {
    const given = attributeValue({ description: desc } as SimActor, 'color')
    const parts = given?.split(',').map(Number)
    if (parts && parts.length === 3 && parts.every((n) => Number.isFinite(n))) return parts as [number, number, number]
    if (kind === 'walker') return [60 + Math.floor(this.rng() * 160), 40 + Math.floor(this.rng() * 120), 40 + Math.floor(this.rng() * 160)]
    return [200, 200, 200]
  }
}

function cameraSpec(desc: ActorDescription): CameraSpec {
  const num = (id: string, dflt: number): number => {
    const v = Number(desc.attributes.find((a) => a.id === id)?.value)
    return Number.isFinite(v) ? v : dflt
  }
  const width = Math.round(num('image_size_x', 800)),
    height = Math.round(num('image_size_y', 600)),
    fov = num('fov', 90)
  if (width < 1 || height < 1 || width > 8192 || height > 8192) throw new Error(`camera size ${width}x${height} out of range`)
  if (!(fov > 0 && fov < 180)) throw new Error(`camera fov ${fov} out of range`)
  return { width, height, fov, sensorTick: Math.max(0, num('sensor_tick', 0)) }
}
