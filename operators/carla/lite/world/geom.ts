/**
 * Geometry in CARLA's conventions: Unreal's left-handed axes (x forward, y right, z up), metres, degrees.
 * The rotation matrix is the one in LibCarla `geom/Transform.h` GetMatrix(), so a point carla-lite renders lands
 * where a client that follows LibCarla projects it.
 */

export interface Vec3 {
  x: number
  y: number
  z: number
}
export interface Rotation {
  pitch: number
  yaw: number
  roll: number
}
export interface Transform {
  location: Vec3
  rotation: Rotation
}
export interface BoundingBox {
  /** Centre relative to the actor. */
  location: Vec3
  /** Half sizes. */
  extent: Vec3
  rotation: Rotation
}

/** Row-major 3×3. */
export type Mat3 = [number, number, number, number, number, number, number, number, number]

const RAD = Math.PI / 180

export const vec = (x = 0, y = 0, z = 0): Vec3 => ({ x, y, z })
export const rot = (pitch = 0, yaw = 0, roll = 0): Rotation => ({ pitch, yaw, roll })
export const transform = (location: Vec3 = vec(), rotation: Rotation = rot()): Transform => ({ location, rotation })

export function rotationMatrix(r: Rotation): Mat3 {
  const cy = Math.cos(r.yaw * RAD),
    sy = Math.sin(r.yaw * RAD)
  const cr = Math.cos(r.roll * RAD),
    sr = Math.sin(r.roll * RAD)
  const cp = Math.cos(r.pitch * RAD),
    sp = Math.sin(r.pitch * RAD)
  return [cp * cy, cy * sp * sr - sy * cr, -cy * sp * cr - sy * sr, cp * sy, sy * sp * sr + cy * cr, -sy * sp * cr + cy * sr, sp, -cp * sr, cp * cr]
}

export function mulMat(a: Mat3, b: Mat3): Mat3 {
  const o = new Array<number>(9) as Mat3
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) o[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j]
  }
  return o
}

/** Inverse of rotationMatrix (pitch kept in [-90, 90]). */
export function matrixToRotation(m: Mat3): Rotation {
  const sp = Math.max(-1, Math.min(1, m[6]))
  return { pitch: Math.asin(sp) / RAD, yaw: Math.atan2(m[3], m[0]) / RAD, roll: Math.atan2(-m[7], m[8]) / RAD }
}

export function applyMat(m: Mat3, p: Vec3): Vec3 {
  return { x: m[0] * p.x + m[1] * p.y + m[2] * p.z, y: m[3] * p.x + m[4] * p.y + m[5] * p.z, z: m[6] * p.x + m[7] * p.y + m[8] * p.z }
}

/** Local → world. */
export function transformPoint(t: Transform, p: Vec3): Vec3 {
  const q = applyMat(rotationMatrix(t.rotation), p)
  return { x: q.x + t.location.x, y: q.y + t.location.y, z: q.z + t.location.z }
}

/** `child` is relative to `parent`; returns child's world transform (what attachment type Rigid does). */
export function compose(parent: Transform, child: Transform): Transform {
  const m = mulMat(rotationMatrix(parent.rotation), rotationMatrix(child.rotation))
  return { location: transformPoint(parent, child.location), rotation: matrixToRotation(m) }
}

/** The 8 world-space corners of a box attached to an actor (LibCarla BoundingBox::GetWorldVertices). */
export function boxWorldCorners(box: BoundingBox, actor: Transform): Vec3[] {
  const out: Vec3[] = []
  for (const sx of [-1, 1]) {
    for (const sy of [-1, 1]) {
      for (const sz of [-1, 1]) {
        const local = transformPoint({ location: box.location, rotation: box.rotation }, vec(sx * box.extent.x, sy * box.extent.y, sz * box.extent.z))
        out.push(transformPoint(actor, local))
      }
    }
  }
  return out
}

/** Values as they travel the wire (float32), so server state matches what a client decodes. */
export function roundF32(t: Transform): Transform {
  const f = Math.fround
  return {
    location: vec(f(t.location.x), f(t.location.y), f(t.location.z)),
    rotation: rot(f(t.rotation.pitch), f(t.rotation.yaw), f(t.rotation.roll)),
  }
}
