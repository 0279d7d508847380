/**
 * apply_batch: Command variants `[[index, payload]]` (rpc/Command.h) executed in order, each answered with a
 * CommandResponse (Response<ActorId>). A SpawnActor's do_after commands get the new actor's id filled in and run
 * right after it; their results are discarded, as CarlaServer.cpp does.
 */
import { decodeControl, decodeDescription, decodeTransform, decodeVec, fail, ok } from '../wire/carla-structs.ts'
import { toArr, toBool, toNum, type Wire } from '../wire/msgpack-wire.ts'
import type { World } from '../world/world.ts'
import type { SimActor } from '../world/actor.ts'

export const CommandIndex = {
  SpawnActor: 0,
  DestroyActor: 1,
  ApplyVehicleControl: 2,
  ApplyVehicleAckermannControl: 3,
  ApplyWalkerControl: 4,
  ApplyVehiclePhysicsControl: 5,
  ApplyTransform: 6,
  ApplyWalkerState: 7,
  ApplyTargetVelocity: 8,
  ApplyTargetAngularVelocity: 9,
  ApplyImpulse: 10,
  ApplyForce: 11,
  ApplyAngularImpulse: 12,
  ApplyTorque: 13,
  SetSimulatePhysics: 14,
  SetEnableGravity: 15,
  SetAutopilot: 16,
  ShowDebugTelemetry: 17,
  SetVehicleLightState: 18,
  ApplyLocation: 19,
  ConsoleCommand: 20,
  SetTrafficLightState: 21,
} as const

export function applyBatch(world: World, commands: unknown): Wire[] {
  return toArr(commands, 'commands').map((cmd) => {
    try {
      return ok(execute(world, cmd))
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err))
    }
  })
}

/** Runs one command; returns the actor id its CommandResponse carries. */
export function execute(world: World, cmd: unknown, actorOverride?: number): number {
  const [index, payload] = toArr(toArr(cmd, 'Command', 1)[0], 'Command variant', 2) as [unknown, unknown[]]
  const p = toArr(payload, 'Command payload')
  const idx = toNum(index, 'Command index')
  if (idx === CommandIndex.SpawnActor) {
    const parent = Array.isArray(p[2]) && p[2][0] === true ? toNum(p[2][1], 'parent') : 0
    const actor = world.spawn(decodeDescription(p[0]), decodeTransform(p[1]), parent)
    for (const after of toArr(p[3] ?? [], 'do_after')) {
      try {
        execute(world, after, actor.id)
      } catch {
        // CARLA ignores the outcome of do_after commands.
      }
    }
    return actor.id
  }
  if (idx === CommandIndex.ConsoleCommand) return 0
  const id = actorOverride ?? toNum(p[0], 'actor')
  if (idx === CommandIndex.DestroyActor) {
    world.destroy(id)
    return id
  }
  const a = must(world, id)
  switch (idx) {
    case CommandIndex.ApplyVehicleControl:
      if (a.control) a.control = decodeControl(p[1])
      break
    case CommandIndex.ApplyWalkerControl: {
      // WalkerControl [direction, speed, jump]: walkers glide at that velocity (kinematics.ts).
      const c = toArr(p[1], 'WalkerControl', 2)
      const d = decodeVec(c[0], 'direction')
      const s = toNum(c[1], 'speed')
      a.velocity = { x: d.x * s, y: d.y * s, z: 0 }
      break
    }
    case CommandIndex.ApplyTransform:
      a.transform = decodeTransform(p[1])
      break
    case CommandIndex.ApplyLocation:
      a.transform = { location: decodeVec(p[1], 'location'), rotation: a.transform.rotation }
      break
    case CommandIndex.ApplyTargetVelocity:
      a.velocity = decodeVec(p[1], 'velocity')
      break
    case CommandIndex.SetAutopilot:
      // The server's autopilot only flips a flag in CARLA too; driving is the Traffic Manager's job.
      a.autopilot = toBool(p[1], 'enabled')
      break
    default:
      // Physics and light commands have nothing to act on in carla-lite; they succeed like no-ops.
      break
  }
  return id
}

function must(world: World, id: number): SimActor {
  const a = world.get(id)
  if (!a) throw new Error(`actor ${id} not found`)
  return a
}
