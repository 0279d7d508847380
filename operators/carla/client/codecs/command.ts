/**
 * Batch commands (`rpc/Command.h`): a Command is `[[variantIndex, payload]]`. Only the variants the generator
 * uses are encoded here; the index table is from the ue4-dev header (marked [verify on server] in the reference).
 * CommandResponse is `Response<ActorId>`.
 */
import type { Wire } from '../msgpack-encode.ts'
import { f32 } from '../msgpack-encode.ts'
import { encodeActorDescription, type ActorDescription } from './actor.ts'
import { encodeTransform, type Transform } from './geom.ts'
import { arr, num, show } from './read.ts'
import { errorMessage } from './response.ts'
import { CarlaProtocolError } from '../errors.ts'

export const CommandIndex = {
  SpawnActor: 0,
  DestroyActor: 1,
  ApplyVehicleControl: 2,
  ApplyTransform: 6,
  SetSimulatePhysics: 14,
  SetEnableGravity: 15,
  SetAutopilot: 16,
  ConsoleCommand: 20,
} as const

export interface VehicleControl {
  throttle: number
  steer: number
  brake: number
  handBrake: boolean
  reverse: boolean
  manualGearShift: boolean
  gear: number
}

export const encodeVehicleControl = (c: VehicleControl): Wire => [
  f32(c.throttle),
  f32(c.steer),
  f32(c.brake),
  c.handBrake,
  c.reverse,
  c.manualGearShift,
  c.gear,
]

export type Command =
  | { type: 'SpawnActor'; description: ActorDescription; transform: Transform; parent?: number; doAfter?: Command[] }
  | { type: 'DestroyActor'; actor: number }
  | { type: 'ApplyVehicleControl'; actor: number; control: VehicleControl }
  | { type: 'ApplyTransform'; actor: number; transform: Transform }
  | { type: 'SetSimulatePhysics' | 'SetEnableGravity' | 'SetAutopilot'; actor: number; enabled: boolean }
  | { type: 'ConsoleCommand'; cmd: string }

export function encodeCommand(c: Command): Wire {
  return [[CommandIndex[c.type], payload(c)]]
}

function payload(c: Command): Wire {
  switch (c.type) {
    case 'SpawnActor':
      // 0.9.15 has no attachment_type/socket_name here: children of a batch spawn are attached Rigid.
      return [
        encodeActorDescription(c.description),
        encodeTransform(c.transform),
        c.parent === undefined ? [false] : [true, c.parent],
        (c.doAfter ?? []).map(encodeCommand),
      ]
    case 'DestroyActor':
      return [c.actor]
    case 'ApplyVehicleControl':
      return [c.actor, encodeVehicleControl(c.control)]
    case 'ApplyTransform':
      return [c.actor, encodeTransform(c.transform)]
    case 'SetSimulatePhysics':
    case 'SetEnableGravity':
    case 'SetAutopilot':
      // SetAutopilot's tm_port is client-side only and is not sent.
      return [c.actor, c.enabled]
    case 'ConsoleCommand':
      return [c.cmd]
  }
}

/** One per command, in order: the actor id on success or the server's message. */
export type CommandResponse = { ok: true; actor: number } | { ok: false; error: string }

export function decodeCommandResponse(raw: unknown, what = 'CommandResponse'): CommandResponse {
  const v = arr(arr(raw, what, 1)[0], `${what} variant`, 2)
  if (v[0] === 1) return { ok: true, actor: num(v[1], `${what}.actor`) }
  if (v[0] === 0) return { ok: false, error: errorMessage(v[1]) }
  throw new CarlaProtocolError(`${what}: variant index must be 0 or 1, got ${show(v[0])}`)
}
