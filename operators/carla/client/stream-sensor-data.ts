/**
 * Sensor payloads (docs/carla-protocol.md §4): a packed 48-byte header, then serializer data. Camera data is
 * `width u32 | height u32 | fov f32` and W·H·4 BGRA8 bytes, rows top-first. Views, not copies: the pixels are a
 * subarray of the received message.
 */
import type { Transform } from './codecs/geom.ts'
import { CarlaProtocolError } from './errors.ts'

export const SENSOR_HEADER_BYTES = 48
export const IMAGE_HEADER_BYTES = 12

/** `sensor/SensorRegistry.h` indices as listed in the reference ([verify on server]). */
export const SensorType = {
  Depth: 1,
  SemanticLidar: 10,
  Lidar: 11,
  Rgb: 13,
  SemanticSegmentation: 14,
  InstanceSegmentation: 15,
  WorldObserver: 16,
} as const

export interface SensorHeader {
  sensorType: number
  frame: number
  /** Episode seconds. */
  timestamp: number
  /** The sensor's world transform when the data was produced. */
  transform: Transform
}

export interface ImageData {
  header: SensorHeader
  width: number
  height: number
  fov: number
  /** BGRA8, W·H·4 bytes. */
  pixels: Buffer
}

export function parseSensorHeader(msg: Buffer): SensorHeader {
  if (msg.length < SENSOR_HEADER_BYTES) throw new CarlaProtocolError(`sensor message of ${msg.length} bytes is shorter than its 48-byte header`)
  return {
    sensorType: Number(msg.readBigUInt64LE(0)),
    frame: Number(msg.readBigUInt64LE(8)),
    timestamp: msg.readDoubleLE(16),
    transform: {
      location: { x: msg.readFloatLE(24), y: msg.readFloatLE(28), z: msg.readFloatLE(32) },
      rotation: { pitch: msg.readFloatLE(36), yaw: msg.readFloatLE(40), roll: msg.readFloatLE(44) },
    },
  }
}

export function parseImage(msg: Buffer): ImageData {
  const header = parseSensorHeader(msg)
  if (msg.length < SENSOR_HEADER_BYTES + IMAGE_HEADER_BYTES) throw new CarlaProtocolError(`image message of ${msg.length} bytes has no image header`)
  const width = msg.readUInt32LE(48)
  const height = msg.readUInt32LE(52)
  const fov = msg.readFloatLE(56)
  const expected = SENSOR_HEADER_BYTES + IMAGE_HEADER_BYTES + width * height * 4
  if (msg.length !== expected) {
    throw new CarlaProtocolError(`image ${width}×${height} should be ${expected} bytes, got ${msg.length}`)
  }
  return { header, width, height, fov, pixels: msg.subarray(SENSOR_HEADER_BYTES + IMAGE_HEADER_BYTES) }
}

/** Depth camera: metres = (R + G·256 + B·256²) / (256³ − 1) · 1000, with BGRA byte order. */
export function decodeDepth(pixels: Uint8Array, out = new Float32Array(pixels.length >> 2)): Float32Array {
  const k = 1000 / (256 * 256 * 256 - 1)
  for (let i = 0, j = 0; j < out.length; i += 4, j++) out[j] = (pixels[i + 2]! + pixels[i + 1]! * 256 + pixels[i]! * 65536) * k
  return out
}

/** Depth in metres at one pixel, without decoding the whole image. */
export function depthAt(pixels: Uint8Array, width: number, x: number, y: number): number {
  const i = (y * width + x) * 4
  return ((pixels[i + 2]! + pixels[i + 1]! * 256 + pixels[i]! * 65536) * 1000) / (256 * 256 * 256 - 1)
}

/** Semantic segmentation: the CityScapes tag is in R (byte 2 of BGRA). */
export function semanticTags(pixels: Uint8Array, out = new Uint8Array(pixels.length >> 2)): Uint8Array {
  for (let i = 2, j = 0; j < out.length; i += 4, j++) out[j] = pixels[i]!
  return out
}

/** BGRA → RGB, for encoders that want RGB (sharp reads 4 channels as RGBA). */
export function bgraToRgb(pixels: Uint8Array, out = new Uint8Array((pixels.length >> 2) * 3)): Uint8Array {
  for (let i = 0, j = 0; i < pixels.length; i += 4, j += 3) {
    out[j] = pixels[i + 2]!
    out[j + 1] = pixels[i + 1]!
    out[j + 2] = pixels[i]!
  }
  return out
}

/** CityScapes tags from `rpc/ObjectLabel.h` that we label. */
export const SemanticTag = {
  Roads: 1,
  Sidewalks: 2,
  TrafficLight: 7,
  TrafficSigns: 8,
  Sky: 11,
  Pedestrians: 12,
  Rider: 13,
  Car: 14,
  Truck: 15,
  Bus: 16,
  Train: 17,
  Motorcycle: 18,
  Bicycle: 19,
  RoadLines: 24,
} as const
