/**
 * Step 6–7 of the sequence: choose blueprints and spawn points (all checked before anything is spawned, so a bad
 * scenario fails naming its field with the server untouched), then spawn the ego, its sensors and the NPCs.
 */
import type { CarlaClient } from '../client/carla-client.ts'
import { AttachmentType, describeBlueprint, type Actor, type ActorDefinition, type ActorDescription } from '../client/codecs/actor.ts'
import type { MapInfo } from '../client/codecs/episode.ts'
import type { Transform } from '../client/codecs/geom.ts'
import { ScenarioError, type Scenario, type SensorSpec } from '../scenario.ts'
import { throwIfAborted } from './abort.ts'
import { seededRandom, shuffle } from './seeded-random.ts'
import { Phase } from './teardown.ts'
import type { WorldContext } from './world-setup.ts'

export interface SpawnPlan {
  ego: ActorDescription
  egoTransform: Transform
  sensors: Array<{ spec: SensorSpec; description: ActorDescription }>
  vehicles: Array<{ description: ActorDescription; transform: Transform }>
  walkers: Array<{ description: ActorDescription; transform: Transform }>
}

function describe(
  defs: Map<string, ActorDefinition>,
  id: string,
  overrides: Record<string, string | number | boolean>,
  field: string,
): ActorDescription {
  const def = defs.get(id)
  if (!def) throw new ScenarioError(`scenario field '${field}': the server has no blueprint '${id}'`, field)
  for (const key of Object.keys(overrides)) {
    if (!def.attributes.some((a) => a.id === key)) {
      throw new ScenarioError(`scenario field '${field}': blueprint '${id}' has no attribute '${key}'`, `${field}.${key}`)
    }
  }
  return describeBlueprint(def, overrides)
}

/** Sets `role_name` when the blueprint has it (CARLA tools look for 'hero'). */
const role = (def: ActorDefinition | undefined, name: string): Record<string, string> =>
  def?.attributes.some((a) => a.id === 'role_name') ? { role_name: name } : {}

export function planActors(s: Scenario, definitions: readonly ActorDefinition[], mapInfo: MapInfo): SpawnPlan {
  const defs = new Map(definitions.map((d) => [d.id, d]))
  const points = mapInfo.recommendedSpawnPoints
  let egoTransform: Transform
  let egoIndex = -1
  if (typeof s.ego.spawn === 'number') {
    if (s.ego.spawn >= points.length) {
      throw new ScenarioError(
        `scenario field 'ego.spawn': index ${s.ego.spawn} but map ${mapInfo.name} has ${points.length} spawn points`,
        'ego.spawn',
      )
    }
    egoIndex = s.ego.spawn
    egoTransform = points[egoIndex]!
  } else egoTransform = s.ego.spawn
  const ego = describe(defs, s.ego.blueprint, role(defs.get(s.ego.blueprint), 'hero'), 'ego.blueprint')
  const sensors = s.sensors.map((spec, i) => ({ spec, description: describe(defs, spec.blueprint, spec.attributes, `sensors.${i}.blueprint`) }))

  const rand = seededRandom(s.seed)
  const free = shuffle(
    points.filter((_, i) => i !== egoIndex),
    rand,
  )
  const vehicleDefs = definitions.filter((d) => d.id.startsWith('vehicle.'))
  const walkerDefs = definitions.filter((d) => d.id.startsWith('walker.pedestrian.'))
  if (s.npcs.vehicles > 0 && vehicleDefs.length === 0)
    throw new ScenarioError(`scenario field 'npcs.vehicles': the server has no vehicle blueprints`, 'npcs.vehicles')
  if (s.npcs.pedestrians > 0 && walkerDefs.length === 0)
    throw new ScenarioError(`scenario field 'npcs.pedestrians': the server has no walker blueprints`, 'npcs.pedestrians')
  const vehicles = free.slice(0, s.npcs.vehicles).map((transform) => {
    const def = vehicleDefs[Math.floor(rand() * vehicleDefs.length)]!
    return { description: describeBlueprint(def, role(def, 'autopilot')), transform }
  })
  // No navigation-mesh RPC is in the reference, so walkers stand on the kerb beside spawn points (3.5 m right).
  const walkers = shuffle(points, rand)
    .slice(0, s.npcs.pedestrians)
    .map((p) => {
      const def = walkerDefs[Math.floor(rand() * walkerDefs.length)]!
      const yaw = (p.rotation.yaw * Math.PI) / 180
      const location = { x: p.location.x - 3.5 * Math.sin(yaw), y: p.location.y + 3.5 * Math.cos(yaw), z: p.location.z + 1 }
      return { description: describeBlueprint(def), transform: { location, rotation: p.rotation } }
    })
  return { ego, egoTransform, sensors, vehicles, walkers }
}

/** One apply_batch of DestroyActor; per-actor failures are reported, not thrown away. */
export async function destroyActors(client: CarlaClient, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return
  const res = await client.applyBatch(
    ids.map((actor) => ({ type: 'DestroyActor' as const, actor })),
    false,
  )
  const failed = res.flatMap((r, i) => (r.ok ? [] : [`${ids[i]}: ${r.error}`]))
  if (failed.length) throw new Error(`destroying actors failed for ${failed.join('; ')}`)
}

export interface Spawned {
  ego: Actor
  sensors: Array<{ spec: SensorSpec; actor: Actor }>
  npcIds: number[]
}

export async function spawnEgoAndSensors(w: WorldContext, plan: SpawnPlan): Promise<Spawned> {
  // Spawn calls are not raced against the abort signal: an actor spawned after we stopped listening would leak.
  // They are bounded by the RPC timeout instead, and the abort is checked once the id is recorded for teardown.
  const ego = await w.client.spawnActor(plan.ego, plan.egoTransform)
  const actorIds = [ego.id]
  const sensorIds: number[] = []
  w.teardown.add(Phase.Actors, 'destroy ego and NPCs', () => destroyActors(w.client, actorIds))
  w.teardown.add(Phase.Sensors, 'destroy sensors', () => destroyActors(w.client, sensorIds))
  const sensors: Spawned['sensors'] = []
  for (const { spec, description } of plan.sensors) {
    throwIfAborted(w.signal)
    const actor = await w.client.spawnActorWithParent(description, spec.transform, ego.id, AttachmentType.Rigid)
    sensorIds.push(actor.id)
    sensors.push({ spec, actor })
  }
  throwIfAborted(w.signal)
  return { ego, sensors, npcIds: actorIds }
}

/** NPCs go in one apply_batch; spawn collisions are logged and the shard continues with the rest. */
export async function spawnNpcs(w: WorldContext, plan: SpawnPlan, into: number[]): Promise<{ vehicles: number[]; walkers: number[] }> {
  const spawnAll = async (items: SpawnPlan['vehicles'], kind: string): Promise<number[]> => {
    if (items.length === 0) return []
    throwIfAborted(w.signal)
    const res = await w.client.applyBatch(
      items.map((v) => ({ type: 'SpawnActor' as const, ...v })),
      false,
    )
    const ids = res.flatMap((r) => (r.ok ? [r.actor] : []))
    into.push(...ids)
    const failed = res.filter((r) => !r.ok)
    if (failed.length) w.log(`${failed.length} of ${items.length} ${kind} did not spawn`, { first: failed[0] })
    return ids
  }
  const vehicles = await spawnAll(plan.vehicles, 'NPC vehicles')
  const walkers = await spawnAll(plan.walkers, 'pedestrians')
  throwIfAborted(w.signal)
  return { vehicles, walkers }
}
