/**
 * Geometry structs (`geom/*.h`): positional float32 arrays, metres and degrees, UE's left-handed axes
 * (x forward, y right, z up).
 */
import { f32, type Wire } from '../msgpack-encode.ts'
import { arr, num } from './read.ts'

export interface Vector3D {
  x: number
  y: number
  z: number
}
export type Location = Vector3D
export interface Rotation {
  pitch: number
  yaw: number
  roll: number
}
export interface Transform {
  location: Location
  rotation: Rotation
}
/** Centre relative to the actor, half-size extent. */
export interface BoundingBox {
  location: Location
  extent: Vector3D
  rotation: Rotation
}

export const encodeVector3D = (v: Vector3D): Wire => [f32(v.x), f32(v.y), f32(v.z)]
export const encodeRotation = (r: Rotation): Wire => [f32(r.pitch), f32(r.yaw), f32(r.roll)]
export const encodeTransform = (t: Transform): Wire => [encodeVector3D(t.location), encodeRotation(t.rotation)]
export const encodeBoundingBox = (b: BoundingBox): Wire => [encodeVector3D(b.location), encodeVector3D(b.extent), encodeRotation(b.rotation)]

export function decodeVector3D(raw: unknown, what = 'Vector3D'): Vector3D {
  const a = arr(raw, what, 3)
  return { x: num(a[0], `${what}.x`), y: num(a[1], `${what}.y`), z: num(a[2], `${what}.z`) }
}

export function decodeRotation(raw: unknown, what = 'Rotation'): Rotation {
  const a = arr(raw, what, 3)
  return { pitch: num(a[0], `${what}.pitch`), yaw: num(a[1], `${what}.yaw`), roll: num(a[2], `${what}.roll`) }
}

export function decodeTransform(raw: unknown, what = 'Transform'): Transform {
  const a = arr(raw, what, 2)
  return { location: decodeVector3D(a[0], `${what}.location`), rotation: decodeRotation(a[1], `${what}.rotation`) }
}

export function decodeBoundingBox(raw: unknown, what = 'BoundingBox'): BoundingBox {
  const a = arr(raw, what, 3)
  return {
    location: decodeVector3D(a[0], `${what}.location`),
    extent: decodeVector3D(a[1], `${what}.extent`),
    rotation: decodeRotation(a[2], `${what}.rotation`),
  }
}

export const identityTransform = (): Transform => ({
  location: { x: 0, y: 0, z: 0 },
  rotation: { pitch: 0, yaw: 0, roll: 0 },
})
