/**
 * Rigid transforms in CARLA's convention (`geom/Transform.h` GetMatrix, `geom/BoundingBox.h`): UE's left-handed
 * axes, degrees, rotation applied as roll, then pitch, then yaw.
 */
import type { BoundingBox, Rotation, Transform, Vector3D } from '../client/codecs/geom.ts'

/** Row-major 3×3 rotation. */
export type Mat3 = [number, number, number, number, number, number, number, number, number]

const RAD = Math.PI / 180

export function rotationMatrix(r: Rotation): Mat3 {
  const cy = Math.cos(r.yaw * RAD),
    sy = Math.sin(r.yaw * RAD)
  const cr = Math.cos(r.roll * RAD),
    sr = Math.sin(r.roll * RAD)
  const cp = Math.cos(r.pitch * RAD),
    sp = Math.sin(r.pitch * RAD)
  return [cp * cy, cy * sp * sr - sy * cr, -cy * sp * cr - sy * sr, cp * sy, sy * sp * sr + cy * cr, -sy * sp * cr + cy * sr, sp, -cp * sr, cp * cr]
}

export function rotate(m: Mat3, v: Vector3D): Vector3D {
  return {
    x: m[0] * v.x + m[1] * v.y + m[2] * v.z,
    y: m[3] * v.x + m[4] * v.y + m[5] * v.z,
    z: m[6] * v.x + m[7] * v.y + m[8] * v.z,
  }
}

/** Rᵀ·v: the inverse of a rotation matrix is its transpose. */
export function rotateInverse(m: Mat3, v: Vector3D): Vector3D {
  return {
    x: m[0] * v.x + m[3] * v.y + m[6] * v.z,
    y: m[1] * v.x + m[4] * v.y + m[7] * v.z,
    z: m[2] * v.x + m[5] * v.y + m[8] * v.z,
  }
}

export function transformPoint(t: Transform, p: Vector3D): Vector3D {
  const r = rotate(rotationMatrix(t.rotation), p)
  return { x: r.x + t.location.x, y: r.y + t.location.y, z: r.z + t.location.z }
}

/** World point → the frame of `t` (e.g. a sensor's header transform). */
export function inverseTransformPoint(t: Transform, p: Vector3D): Vector3D {
  const d = { x: p.x - t.location.x, y: p.y - t.location.y, z: p.z - t.location.z }
  return rotateInverse(rotationMatrix(t.rotation), d)
}

/** The 8 corners in the world, like `BoundingBox::GetWorldVertices`: box rotation + centre, then the actor transform. */
export function worldVertices(box: BoundingBox, actor: Transform): Vector3D[] {
  const m = rotationMatrix(box.rotation)
  const out: Vector3D[] = []
  for (const sx of [-1, 1]) {
    for (const sy of [-1, 1]) {
      for (const sz of [-1, 1]) {
        const local = rotate(m, { x: sx * box.extent.x, y: sy * box.extent.y, z: sz * box.extent.z })
        out.push(transformPoint(actor, { x: local.x + box.location.x, y: local.y + box.location.y, z: local.z + box.location.z }))
      }
    }
  }
  return out
}

/** UE (x forward, y right, z up) → camera (x right, y down, z forward): (x, y, z) → (y, −z, x). */
export const ueToCamera = (p: Vector3D): Vector3D => ({ x: p.y, y: -p.z, z: p.x })
