/**
 * The world observer's payload (docs/carla-protocol.md §4): the 48-byte sensor header, a packed 36-byte episode
 * header, then N × 119-byte ActorDynamicState records. This is the per-frame list of actors and their transforms.
 */
import { parseSensorHeader, SENSOR_HEADER_BYTES, type SensorHeader } from './stream-sensor-data.ts'
import type { Transform, Vector3D } from './codecs/geom.ts'
import { CarlaProtocolError } from './errors.ts'

export const EPISODE_HEADER_BYTES = 36
export const ACTOR_STATE_BYTES = 119

export const SimulationState = { MapChange: 1, PendingLightUpdate: 2 } as const
export const ActorState = { Invalid: 0, Active: 1, Dormant: 2, PendingKill: 3 } as const

export interface ActorDynamicState {
  id: number
  actorState: number
  transform: Transform
  velocity: Vector3D
  angularVelocity: Vector3D
  acceleration: Vector3D
}

export interface WorldState {
  header: SensorHeader
  episodeId: bigint
  platformTimestamp: number
  deltaSeconds: number
  mapOrigin: [number, number, number]
  simulationState: number
  actors: ActorDynamicState[]
}

const vec = (b: Buffer, o: number): Vector3D => ({ x: b.readFloatLE(o), y: b.readFloatLE(o + 4), z: b.readFloatLE(o + 8) })

export function parseWorldState(msg: Buffer): WorldState {
  const header = parseSensorHeader(msg)
  const h = SENSOR_HEADER_BYTES
  const body = msg.length - h - EPISODE_HEADER_BYTES
  if (body < 0 || body % ACTOR_STATE_BYTES !== 0) {
    throw new CarlaProtocolError(`world state of ${msg.length} bytes is not 48 + 36 + N×119`)
  }
  const actors: ActorDynamicState[] = []
  for (let o = h + EPISODE_HEADER_BYTES; o < msg.length; o += ACTOR_STATE_BYTES) {
    actors.push({
      id: msg.readUInt32LE(o),
      actorState: msg[o + 4]!,
      transform: {
        location: vec(msg, o + 5),
        rotation: { pitch: msg.readFloatLE(o + 17), yaw: msg.readFloatLE(o + 21), roll: msg.readFloatLE(o + 25) },
      },
      velocity: vec(msg, o + 29),
      angularVelocity: vec(msg, o + 41),
      acceleration: vec(msg, o + 53),
      // The remaining 54 bytes are a per-type union (vehicle control, traffic light state); labels do not need it.
    })
  }
  return {
    header,
    episodeId: msg.readBigUInt64LE(h),
    platformTimestamp: msg.readDoubleLE(h + 8),
    deltaSeconds: msg.readFloatLE(h + 16),
    mapOrigin: [msg.readInt32LE(h + 20), msg.readInt32LE(h + 24), msg.readInt32LE(h + 28)],
    simulationState: msg.readUInt32LE(h + 32),
    actors,
  }
}
