/**
 * The 48-byte header in front of every streamed sensor payload (sensor/s11n/SensorHeaderSerializer.h):
 * u64 sensor_type | u64 frame | f64 timestamp | 6×f32 world transform (x, y, z, pitch, yaw, roll). Little-endian.
 */
import type { Transform } from '../world/geom.ts'

export const HEADER_BYTES = 48

/** Indices in sensor/SensorRegistry.h (docs/carla-protocol.md §4). */
export const SensorType = { Depth: 1, Rgb: 13, SemanticSegmentation: 14, WorldObserver: 16 } as const
export type SensorType = (typeof SensorType)[keyof typeof SensorType]

export function writeSensorHeader(buf: Buffer, offset: number, type: number, frame: number, timestamp: number, t: Transform): void {
  buf.writeBigUInt64LE(BigInt(type), offset)
  buf.writeBigUInt64LE(BigInt(frame), offset + 8)
  buf.writeDoubleLE(timestamp, offset + 16)
  buf.writeFloatLE(t.location.x, offset + 24)
  buf.writeFloatLE(t.location.y, offset + 28)
  buf.writeFloatLE(t.location.z, offset + 32)
  buf.writeFloatLE(t.rotation.pitch, offset + 36)
  buf.writeFloatLE(t.rotation.yaw, offset + 40)
  buf.writeFloatLE(t.rotation.roll, offset + 44)
}
