/**
 * The pinhole model carla-lite renders with, which is the one clients use to project boxes
 * (docs/carla-protocol.md §6 step 10): fx = fy = W / (2·tan(fov·π/360)), cx = W/2, cy = H/2, and UE's camera-local axes
 * (x forward, y right, z up) map to image axes as (x, y, z) → (depth, u, −v). Pixel (i, j) is sampled at its
 * centre (i + 0.5, j + 0.5).
 */
import { rotationMatrix, type Transform, type Vec3 } from '../world/geom.ts'

export interface CameraModel {
  width: number
  height: number
  fx: number
  cx: number
  cy: number
  origin: Vec3
  /** World-space unit axes of the camera. */
  forward: Vec3
  right: Vec3
  up: Vec3
}

export function cameraModel(t: Transform, width: number, height: number, fov: number): CameraModel {
  const m = rotationMatrix(t.rotation)
  return {
    width,
    height,
    fx: width / (2 * Math.tan((fov * Math.PI) / 360)),
    cx: width / 2,
    cy: height / 2,
    origin: t.location,
    forward: { x: m[0], y: m[3], z: m[6] },
    right: { x: m[1], y: m[4], z: m[7] },
    up: { x: m[2], y: m[5], z: m[8] },
  }
}

/** World point → camera-local (x forward = planar depth, y right, z up). */
export function toCameraLocal(c: CameraModel, p: Vec3): Vec3 {
  const dx = p.x - c.origin.x,
    dy = p.y - c.origin.y,
    dz = p.z - c.origin.z
  return {
    x: dx * c.forward.x + dy * c.forward.y + dz * c.forward.z,
    y: dx * c.right.x + dy * c.right.y + dz * c.right.z,
    z: dx * c.up.x + dy * c.up.y + dz * c.up.z,
  }
}

/** World direction → camera-local. */
export function dirToCameraLocal(c: CameraModel, d: Vec3): Vec3 {
  return {
    x: d.x * c.forward.x + d.y * c.forward.y + d.z * c.forward.z,
    y: d.x * c.right.x + d.y * c.right.y + d.z * c.right.z,
    z: d.x * c.up.x + d.y * c.up.y + d.z * c.up.z,
  }
}

/** Camera-local point → continuous pixel coordinates (u right, v down). Only valid for x > 0. */
export function projectLocal(c: CameraModel, p: Vec3): { u: number; v: number } {
  return { u: (c.fx * p.y) / p.x + c.cx, v: (-c.fx * p.z) / p.x + c.cy }
}
