/**
 * The label camera's projection (KITTI's P2: 3×4, row-major, into the pixel coordinates the 2D boxes use) before and
 * after a frame's augmentation. The 3D labels stay in the source camera's frame, except that a flip mirrors them
 * (x → −x, box-labels.ts); so the output image's projection is P2' = M · P2 · S, with M the frame's 2D map as a
 * 3×3 matrix and S = diag(−1, 1, 1, 1) when flipped. Crop and resize change only fx, fy, cx, cy. A rotation makes
 * M's left part a rotation too: P2' still projects the 3D labels exactly, but is no longer of the form K·[I | t]
 * with an upper-triangular K, so a reader taking fx and cx from fixed entries must decompose it first.
 */
import { intrinsics } from '../carla/labels/project-box.ts'
import type { Affine } from './geometry.ts'

/** 12 numbers, rows of the 3×4 matrix. */
export type Projection = readonly number[]

/** From a sensor's CARLA attributes (image size and horizontal fov): K·[I | 0], as the labels were projected. */
export function projectionFromAttributes(attributes: Record<string, unknown> | undefined): Projection | null {
  const width = num(attributes?.image_size_x),
    height = num(attributes?.image_size_y),
    fov = num(attributes?.fov)
  if (width === null || height === null || fov === null || !(fov > 0 && fov < 180)) return null
  const { fx, fy, cx, cy } = intrinsics({ width, height, fov })
  return [fx, 0, cx, 0, 0, fy, cy, 0, 0, 0, 1, 0]
}

/** P2' = M · P · S (see above). */
export function transformProjection(p: Projection, m: Affine, flip: boolean): Projection {
  const [a, b, c, d, e, f] = m
  const M = [
    [a, b, c],
    [d, e, f],
    [0, 0, 1],
  ]
  const out: number[] = []
  for (let r = 0; r < 3; r++) {
    for (let col = 0; col < 4; col++) {
      let s = 0
      for (let k = 0; k < 3; k++) s += M[r]![k]! * p[k * 4 + col]!
      out.push(flip && col === 0 ? -s : s)
    }
  }
  return out
}

/** A camera-frame point through a projection, in pixels. */
export function project(p: Projection, x: number, y: number, z: number): [number, number] {
  const w = p[8]! * x + p[9]! * y + p[10]! * z + p[11]!
  return [(p[0]! * x + p[1]! * y + p[2]! * z + p[3]!) / w, (p[4]! * x + p[5]! * y + p[6]! * z + p[7]!) / w]
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  return Number.isFinite(n) ? n : null
}
