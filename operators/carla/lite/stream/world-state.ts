/**
 * The world observer's payload (stream id 1), built once per frame (sensor/s11n/EpisodeStateSerializer.h):
 * 48-byte sensor header (type 16), a packed 36-byte episode header
 * `episode_id u64 | platform_timestamp f64 | delta_seconds f32 | map_origin 3×i32 | simulation_state u32`,
 * then one 119-byte ActorDynamicState per actor. This message is how clients learn the per-frame actor list.
 */
import { HEADER_BYTES, SensorType, writeSensorHeader } from './sensor-header.ts'
import type { Transform, Vec3 } from '../world/geom.ts'
import type { VehicleControl } from '../wire/carla-structs.ts'

export const EPISODE_HEADER_BYTES = 36
export const ACTOR_STATE_BYTES = 119
/** SimulationState flags. */
export const SimulationState = { None: 0, MapChange: 1, PendingLightUpdate: 2 } as const

export interface ActorDynamicState {
  id: number
  transform: Transform
  velocity: Vec3
  angularVelocity: Vec3
  acceleration: Vec3
  /** Vehicles only: goes into the per-type union (VehicleData starts with the applied control). */
  control?: VehicleControl
  speedLimit?: number
}

export interface WorldFrame {
  frame: number
  timestamp: number
  episodeId: number
  deltaSeconds: number
  simulationState: number
  actors: readonly ActorDynamicState[]
}

/** Returns [u32 length][payload] ready for the socket. */
export function encodeWorldState(w: WorldFrame): Buffer {
  const payload = HEADER_BYTES + EPISODE_HEADER_BYTES + w.actors.length * ACTOR_STATE_BYTES
  const buf = Buffer.alloc(4 + payload)
  buf.writeUInt32LE(payload, 0)
  // The observer's own "transform" is meaningless; CARLA sends zeros.
  writeSensorHeader(buf, 4, SensorType.WorldObserver, w.frame, w.timestamp, {
    location: { x: 0, y: 0, z: 0 },
    rotation: { pitch: 0, yaw: 0, roll: 0 },
  })
  let o = 4 + HEADER_BYTES
  buf.writeBigUInt64LE(BigInt(w.episodeId), o)
  buf.writeDoubleLE(Date.now() / 1000, o + 8)
  buf.writeFloatLE(w.deltaSeconds, o + 16)
  // map_origin (3×i32) stays 0: carla-lite has no large-map tiles.
  buf.writeUInt32LE(w.simulationState, o + 32)
  o += EPISODE_HEADER_BYTES
  for (const a of w.actors) {
    writeActor(buf, o, a)
    o += ACTOR_STATE_BYTES
  }
  return buf
}

function writeActor(buf: Buffer, o: number, a: ActorDynamicState): void {
  buf.writeUInt32LE(a.id, o)
  buf.writeUInt8(1, o + 4) // ActorState::Active
  const t = a.transform
  const floats = [
    t.location.x,
    t.location.y,
    t.location.z,
    t.rotation.pitch,
    t.rotation.yaw,
    t.rotation.roll,
    a.velocity.x,
    a.velocity.y,
    a.velocity.z,
    a.angularVelocity.x,
    a.angularVelocity.y,
    a.angularVelocity.z,
    a.acceleration.x,
    a.acceleration.y,
    a.acceleration.z,
  ]
  let p = o + 5
  for (const f of floats) {
    buf.writeFloatLE(f, p)
    p += 4
  }
  // 54-byte union; for vehicles VehicleData begins with the packed VehicleControl (19 bytes) then speed_limit.
  if (a.control) {
    const c = a.control
    buf.writeFloatLE(c.throttle, p)
    buf.writeFloatLE(c.steer, p + 4)
    buf.writeFloatLE(c.brake, p + 8)
    buf.writeUInt8(c.handBrake ? 1 : 0, p + 12)
    buf.writeUInt8(c.reverse ? 1 : 0, p + 13)
    buf.writeUInt8(c.manualGearShift ? 1 : 0, p + 14)
    buf.writeInt32LE(c.gear, p + 15)
    buf.writeFloatLE(a.speedLimit ?? 0, p + 19)
  }
}
