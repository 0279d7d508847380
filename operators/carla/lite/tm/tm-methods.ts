/**
 * The Traffic Manager's RPC surface (TrafficManagerServer.h): plain rpclib, no Metadata argument, no Response
 * envelope; void methods answer nil. Per-vehicle tuning calls beyond speed are accepted and ignored.
 */
import type { Engine } from '../engine.ts'
import type { RpcMethod } from '../wire/rpc-server.ts'
import { decodeActorId } from '../wire/carla-structs.ts'
import { toArr, toBool, toNum, type Wire } from '../wire/msgpack-wire.ts'
import type { TrafficManager } from './traffic-manager.ts'

export function tmMethods(engine: Engine, tm: TrafficManager): Map<string, RpcMethod> {
  const onGame = (arity: number, fn: (args: unknown[]) => Wire | void): RpcMethod => ({
    arity,
    run: (args) => engine.run(() => fn(args) ?? null),
  })
  const ids = (v: unknown): number[] => toArr(v, 'actor list').map(decodeActorId)
  const ignore = (arity: number): RpcMethod => onGame(arity, () => null)
  return new Map<string, RpcMethod>([
    ['register_vehicle', onGame(1, ([list]) => tm.register(ids(list)))],
    ['unregister_vehicle', onGame(1, ([list]) => tm.unregister(ids(list)))],
    ['set_synchronous_mode', onGame(1, ([on]) => void (tm.synchronous = toBool(on, 'mode')))],
    [
      'synchronous_tick',
      onGame(0, () => {
        const s = engine.world.settings
        tm.advance(s.fixedDeltaSeconds ?? 0.05)
        return true
      }),
    ],
    ['set_random_device_seed', onGame(1, ([seed]) => tm.setSeed(Number(BigInt.asUintN(32, BigInt(toNum(seed, 'seed'))))))],
    ['set_global_distance_to_leading_vehicle', onGame(1, ([d]) => void (tm.globalDistance = toNum(d, 'distance')))],
    ['set_global_percentage_speed_difference', onGame(1, ([p]) => void (tm.globalSpeedDifference = toNum(p, 'percentage')))],
    ['set_percentage_speed_difference', onGame(2, ([a, p]) => tm.setSpeedDifference(decodeActorId(a), toNum(p, 'percentage')))],
    ['set_hybrid_physics_mode', onGame(1, ([on]) => void toBool(on, 'mode'))],
    ['set_hybrid_physics_radius', ignore(1)],
    ['set_distance_to_leading_vehicle', ignore(2)],
    ['set_desired_speed', ignore(2)],
    ['set_auto_lane_change', ignore(2)],
    ['set_global_lane_offset', ignore(1)],
    ['set_respawn_dormant_vehicles', ignore(1)],
    ['set_osm_mode', ignore(1)],
    ['set_synchronous_mode_timeout_in_milli', ignore(1)],
    ['health_check_remote_TM', ignore(0)],
    // In CARLA this stops the TM; carla-lite keeps serving (other clients may reconnect) but forgets everything.
    ['shut_down', onGame(0, () => tm.reset())],
  ])
}
