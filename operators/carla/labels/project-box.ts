/**
 * Projects an actor's 3D bounding box to a 2D image box (docs/carla-protocol.md §6 step 10) and decides whether the
 * camera actually sees it, using the depth or the semantic image of the same frame.
 */
import type { BoundingBox, Transform, Vector3D } from '../client/codecs/geom.ts'
import { depthAt } from '../client/stream-sensor-data.ts'
import { inverseTransformPoint, ueToCamera, worldVertices } from './geometry.ts'

export interface CameraModel {
  width: number
  height: number
  /** Horizontal field of view, degrees. */
  fov: number
  /** The camera's world transform (the sensor header's). */
  transform: Transform
}

export interface Box2D {
  x1: number
  y1: number
  x2: number
  y2: number
  /** Nearest in-front corner's depth along the optical axis, metres. */
  depth: number
  /** 1 − clipped area / unclipped area, in [0, 1]. */
  truncation: number
}

/** Corners closer than this to the image plane are treated as behind the camera. */
const NEAR = 0.05

export function intrinsics(cam: Pick<CameraModel, 'width' | 'height' | 'fov'>): { fx: number; fy: number; cx: number; cy: number } {
  const f = cam.width / (2 * Math.tan((cam.fov * Math.PI) / 360))
  return { fx: f, fy: f, cx: cam.width / 2, cy: cam.height / 2 }
}

/** Camera-frame (x right, y down, z forward) coordinates of the 8 corners. */
export function cameraCorners(box: BoundingBox, actor: Transform, cam: CameraModel): Vector3D[] {
  return worldVertices(box, actor).map((w) => ueToCamera(inverseTransformPoint(cam.transform, w)))
}

export function projectBox(box: BoundingBox, actor: Transform, cam: CameraModel): Box2D | null {
  const { fx, fy, cx, cy } = intrinsics(cam)
  let x1 = Infinity,
    y1 = Infinity,
    x2 = -Infinity,
    y2 = -Infinity,
    depth = Infinity
  for (const p of cameraCorners(box, actor, cam)) {
    if (p.z <= NEAR) continue // behind the camera: dropped, as the reference says
    const u = (fx * p.x) / p.z + cx
    const v = (fy * p.y) / p.z + cy
    ;((x1 = Math.min(x1, u)), (x2 = Math.max(x2, u)), (y1 = Math.min(y1, v)), (y2 = Math.max(y2, v)))
    depth = Math.min(depth, p.z)
  }
  if (depth === Infinity) return null
  const full = (x2 - x1) * (y2 - y1)
  const cx1 = Math.max(0, x1),
    cy1 = Math.max(0, y1),
    cx2 = Math.min(cam.width, x2),
    cy2 = Math.min(cam.height, y2)
  if (cx2 - cx1 < 1 || cy2 - cy1 < 1) return null
  const clipped = (cx2 - cx1) * (cy2 - cy1)
  return { x1: cx1, y1: cy1, x2: cx2, y2: cy2, depth, truncation: full > 0 ? Math.max(0, 1 - clipped / full) : 0 }
}

export interface OcclusionInput {
  width: number
  height: number
  /** BGRA depth image of the same frame. */
  depthPixels?: Uint8Array
  /** BGRA semantic image of the same frame (tag in R). */
  semanticPixels?: Uint8Array
  /** The actor's semantic tags (Actor.semantic_tags); used with the semantic image. */
  tags?: Uint8Array
}

/**
 * Fraction of sample points inside the box that show the object, on a grid of at most 16×16.
 * - semantic: the pixel's tag is one of the actor's tags;
 * - depth: nothing nearer than the box's nearest corner (minus a margin) covers the pixel.
 * Returns 1 when no image is given (no evidence either way).
 */
export function visibleFraction(box: Box2D, img: OcclusionInput, marginM = 0.5): number {
  const grid = 16
  let seen = 0,
    total = 0
  const useSem = img.semanticPixels && img.tags && img.tags.length > 0
  if (!useSem && !img.depthPixels) return 1
  for (let gy = 0; gy < grid; gy++) {
    const y = Math.min(img.height - 1, Math.floor(box.y1 + ((gy + 0.5) * (box.y2 - box.y1)) / grid))
    for (let gx = 0; gx < grid; gx++) {
      const x = Math.min(img.width - 1, Math.floor(box.x1 + ((gx + 0.5) * (box.x2 - box.x1)) / grid))
      total++
      if (useSem) {
        if (img.tags!.includes(img.semanticPixels![(y * img.width + x) * 4 + 2]!)) seen++
      } else if (depthAt(img.depthPixels!, img.width, x, y) >= box.depth - marginM) seen++
    }
  }
  return seen / total
}
