/**
 * The CARLA RPC methods carla-lite answers (docs/carla-protocol.md §2), each with its parameter count after the
 * metadata argument and its result envelope.
 */
import type { Engine } from '../engine.ts'
import type { RpcMethod } from '../wire/rpc-server.ts'
import {
  decodeControl,
  decodeDescription,
  decodeSettings,
  decodeTransform,
  decodeVec,
  decodeWeather,
  encodeActor,
  encodeDefinition,
  encodeSettings,
  encodeTransform,
  encodeWeather,
} from '../wire/carla-structs.ts'
import { toArr, toBool, toNum, toStr, type Wire } from '../wire/msgpack-wire.ts'
import { toWire, type SimActor } from '../world/actor.ts'
import { actorDefinitions } from '../world/blueprints.ts'
import { availableMaps, mapInfoName, openDrive, spawnPoints } from '../world/road-map.ts'
import { WORLD_STREAM_ID } from '../world/world.ts'
import { makeToken } from '../stream/token.ts'
import { applyBatch } from './apply-batch.ts'
import { carlaMethod, type CarlaMethodSpec } from './carla-method.ts'

/** Clients check this string; carla-lite identifies itself everywhere else (logs, map list, OpenDRIVE vendor). */
export const CARLA_VERSION = '0.9.15'

/** The Traffic Manager registry CARLA keeps for clients to find a running TM: port → [ip, port]. */
export type TmRegistry = Map<number, [string, number]>

export function carlaMethods(engine: Engine, registry: TmRegistry, log: (msg: string) => void): Map<string, RpcMethod> {
  const world = engine.world
  const actor = (id: unknown): SimActor => {
    const a = world.get(toNum(id, 'actor id'))
    if (!a) throw new Error(`unable to find actor ${String(id)}`)
    return a
  }
  const specs: Record<string, CarlaMethodSpec> = {
    version: { args: 0, result: 'value', offThread: true, run: () => CARLA_VERSION },
    get_available_maps: { args: 0, result: 'value', offThread: true, run: () => availableMaps() },
    load_new_episode: {
      args: 3,
      result: 'void',
      run: ([map, reset]) => engine.loadEpisode(toStr(map, 'map name'), toBool(reset, 'reset_settings')),
    },
    get_episode_info: { args: 0, result: 'value', run: () => [world.episodeId, [makeToken(WORLD_STREAM_ID, world.streamPort)]] },
    get_map_info: { args: 0, result: 'value', run: () => [mapInfoName(world.map), spawnPoints(world.map).map(encodeTransform)] },
    get_map_data: { args: 0, result: 'value', run: () => openDrive(world.map) },
    get_episode_settings: { args: 0, result: 'value', run: () => encodeSettings(world.settings) },
    set_episode_settings: { args: 1, result: 'value', run: ([s]) => engine.applySettings(decodeSettings(s)) },
    get_actor_definitions: { args: 0, result: 'value', run: () => actorDefinitions.map(encodeDefinition) },
    get_spectator: { args: 0, result: 'value', run: () => encodeActor(toWire(actor(world.spectatorId))) },
    get_weather_parameters: { args: 0, result: 'value', run: () => encodeWeather(world.weather) },
    set_weather_parameters: { args: 1, result: 'void', run: ([w]) => world.setWeather(decodeWeather(w)) },
    get_actors_by_id: {
      args: 1,
      result: 'value',
      run: ([ids]) =>
        toArr(ids, 'ids').flatMap((id) => {
          const a = world.get(toNum(id, 'id'))
          return a ? [encodeActor(toWire(a))] : []
        }),
    },
    spawn_actor: { args: 2, result: 'value', run: ([d, t]) => encodeActor(toWire(world.spawn(decodeDescription(d), decodeTransform(t)))) },
    spawn_actor_with_parent: {
      // The attachment type (Rigid, SpringArm…) is accepted; carla-lite attaches everything rigidly.
      args: 4,
      result: 'value',
      run: ([d, t, parent]) => encodeActor(toWire(world.spawn(decodeDescription(d), decodeTransform(t), toNum(parent, 'parent')))),
    },
    destroy_actor: { args: 1, result: 'value', run: ([id]) => world.destroy(toNum(id, 'actor id')) },
    get_sensor_token: {
      args: 1,
      result: 'value',
      run: ([sid]) => {
        const streamId = toNum(sid, 'stream id')
        const known = streamId === WORLD_STREAM_ID || [...world.actors.values()].some((a) => a.streamId === streamId)
        if (!known) throw new Error(`no stream with id ${streamId}`)
        return [makeToken(streamId, world.streamPort)]
      },
    },
    apply_batch: {
      args: 2,
      result: 'raw',
      run: ([commands, cue]) => {
        const out = applyBatch(world, commands)
        if (toBool(cue, 'do_tick_cue')) engine.tickCue()
        return out
      },
    },
    tick_cue: { args: 0, result: 'value', run: () => engine.tickCue() },
    set_actor_transform: { args: 2, result: 'void', run: ([id, t]) => void (actor(id).transform = decodeTransform(t)) },
    set_actor_location: {
      args: 2,
      result: 'void',
      run: ([id, l]) => {
        const a = actor(id)
        a.transform = { location: decodeVec(l, 'location'), rotation: a.transform.rotation }
      },
    },
    set_actor_target_velocity: { args: 2, result: 'void', run: ([id, v]) => void (actor(id).velocity = decodeVec(v, 'velocity')) },
    set_actor_simulate_physics: { args: 2, result: 'void', run: ([id]) => void actor(id) },
    set_actor_enable_gravity: { args: 2, result: 'void', run: ([id]) => void actor(id) },
    set_actor_collisions: { args: 2, result: 'void', run: ([id]) => void actor(id) },
    set_actor_autopilot: { args: 2, result: 'void', run: ([id, on]) => void (actor(id).autopilot = toBool(on, 'enabled')) },
    apply_control_to_vehicle: {
      args: 2,
      result: 'void',
      run: ([id, c]) => {
        const a = actor(id)
        if (!a.control) throw new Error(`actor ${a.id} is not a vehicle`)
        a.control = decodeControl(c)
      },
    },
    // Static level geometry: carla-lite's road, sidewalks and terrain are not boxes, so there is none.
    get_all_level_BBs: { args: 1, result: 'value', run: () => [] },
    is_traffic_manager_running: { args: 1, result: 'value', run: ([port]) => registry.has(toNum(port, 'port')) },
    get_traffic_manager_running: {
      args: 1,
      result: 'value',
      run: ([port]) => (registry.get(toNum(port, 'port')) ?? ['', 0]) as Wire,
    },
    add_traffic_manager_running: {
      args: 1,
      result: 'value',
      run: ([entry]) => {
        const [ip, port] = toArr(entry, '[ip, port]', 2)
        const p = toNum(port, 'port')
        if (registry.has(p)) return false
        registry.set(p, [toStr(ip, 'ip'), p])
        return true
      },
    },
    destroy_traffic_manager: { args: 1, result: 'value', run: ([port]) => registry.delete(toNum(port, 'port')) },
  }
  return new Map(Object.entries(specs).map(([name, spec]) => [name, carlaMethod(engine, spec, log, name)]))
}
