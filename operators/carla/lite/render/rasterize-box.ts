/**
 * Draws an oriented 3D box (an actor's bounding box) into an image: back-face culling, near-plane clipping, then a
 * scanline fill of each visible face with a per-pixel depth test. Depth is interpolated exactly: for a plane
 * n·p = c in camera-local space, 1/depth is affine in (u, v), so no perspective error accumulates.
 *
 * The union of a convex box's visible faces is the convex hull of its projected corners, so the pixels drawn here
 * span exactly the 2D box a client gets by projecting the 8 corners (pixel centres inside the hull are filled).
 */
import type { Vec3 } from '../world/geom.ts'
import { dirToCameraLocal, toCameraLocal, type CameraModel } from './camera-model.ts'
import { FAR_PLANE, depthPixel } from './encodings.ts'
import { bgra, brightness, fogAmount, mix, type Lighting, type Rgb } from './lighting.ts'

export type OutputKind = 'rgb' | 'depth' | 'semantic'

export interface RasterTarget {
  kind: OutputKind
  out: Uint32Array
  /** Background depth; a box pixel must be nearer to win. */
  bgDepth: Float32Array
  /** Box depth buffer, valid where stamp === cur (saves clearing it every frame). */
  z: Float32Array
  stamp: Uint32Array
  cur: number
}

export interface BoxInstance {
  /** World corners in boxWorldCorners order: index bits (x, y, z) = (4, 2, 1), bit set = +extent. */
  corners: Vec3[]
  color: Rgb
  tag: number
}

const FACES = [
  [0, 1, 3, 2],
  [4, 6, 7, 5],
  [0, 4, 5, 1],
  [2, 3, 7, 6],
  [0, 2, 6, 4],
  [1, 5, 7, 3],
]
const NEAR = 0.05

export function drawBox(cam: CameraModel, light: Lighting, box: BoxInstance, target: RasterTarget): void {
  const local = box.corners.map((p) => toCameraLocal(cam, p))
  if (local.every((p) => p.x < NEAR)) return
  const centre = avg(box.corners)
  for (const face of FACES) {
    const worldCentre = avg(face.map((i) => box.corners[i]))
    const nWorld = normalize({ x: worldCentre.x - centre.x, y: worldCentre.y - centre.y, z: worldCentre.z - centre.z })
    const n = dirToCameraLocal(cam, nWorld)
    const p0 = toCameraLocal(cam, worldCentre)
    const c = n.x * p0.x + n.y * p0.y + n.z * p0.z
    if (c >= -1e-9) continue // facing away (or edge-on)
    const poly = clipNear(face.map((i) => local[i]))
    if (poly.length < 3) continue
    let value = 0
    if (target.kind === 'rgb') {
      const b = brightness(light, nWorld)
      const lit: Rgb = [box.color[0] * b, box.color[1] * b, box.color[2] * b]
      value = bgra(mix(lit, light.fogColor, fogAmount(light, Math.max(p0.x, 0))))
    } else if (target.kind === 'semantic') {
      value = ((box.tag << 16) | 0xff000000) >>> 0
    }
    fillPolygon(cam, poly, n, c, value, target)
  }
}

function fillPolygon(cam: CameraModel, poly: Vec3[], n: Vec3, c: number, value: number, t: RasterTarget): void {
  const { width: W, height: H, fx, cx, cy } = cam
  const us: number[] = [],
    vs: number[] = []
  for (const p of poly) {
    us.push((fx * p.y) / p.x + cx)
    vs.push((-fx * p.z) / p.x + cy)
  }
  // 1/depth = A + B·u + C·v over the face's plane.
  const B = n.y / fx / c
  const C = -n.z / fx / c
  const A = (n.x - (n.y * cx) / fx + (n.z * cy) / fx) / c
  let vmin = Infinity,
    vmax = -Infinity
  for (const v of vs) {
    if (v < vmin) vmin = v
    if (v > vmax) vmax = v
  }
  const j0 = Math.max(0, Math.ceil(vmin - 0.5))
  const j1 = Math.min(H - 1, Math.ceil(vmax - 0.5) - 1)
  const m = poly.length
  const { out, bgDepth, z, stamp, cur } = t
  const writeDepth = t.kind === 'depth'
  for (let j = j0; j <= j1; j++) {
    const y = j + 0.5
    let xl = Infinity,
      xr = -Infinity
    for (let e = 0; e < m; e++) {
      const ya = vs[e],
        yb = vs[(e + 1) % m]
      if ((ya <= y && yb > y) || (yb <= y && ya > y)) {
        const x = us[e] + ((y - ya) / (yb - ya)) * (us[(e + 1) % m] - us[e])
        if (x < xl) xl = x
        if (x > xr) xr = x
      }
    }
    if (!(xr > xl)) continue
    const i0 = Math.max(0, Math.ceil(xl - 0.5))
    const i1 = Math.min(W - 1, Math.ceil(xr - 0.5) - 1)
    const row = j * W
    let inv = A + B * (i0 + 0.5) + C * y
    for (let i = i0; i <= i1; i++, inv += B) {
      const k = row + i
      const d = 1 / inv
      if (!(d > 0) || d >= bgDepth[k] || d >= FAR_PLANE) continue
      if (stamp[k] === cur && z[k] <= d) continue
      stamp[k] = cur
      z[k] = d
      out[k] = writeDepth ? depthPixel(d) : value
    }
  }
}

function clipNear(poly: Vec3[]): Vec3[] {
  const out: Vec3[] = []
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i],
      b = poly[(i + 1) % poly.length]
    const ain = a.x >= NEAR,
      bin = b.x >= NEAR
    if (ain) out.push(a)
    if (ain !== bin) {
      const s = (NEAR - a.x) / (b.x - a.x)
      out.push({ x: NEAR, y: a.y + s * (b.y - a.y), z: a.z + s * (b.z - a.z) })
    }
  }
  return out
}

function avg(ps: Vec3[]): Vec3 {
  let x = 0,
    y = 0,
    z = 0
  for (const p of ps) {
    x += p.x
    y += p.y
    z += p.z
  }
  return { x: x / ps.length, y: y / ps.length, z: z / ps.length }
}

function normalize(v: Vec3): Vec3 {
  const l = Math.hypot(v.x, v.y, v.z) || 1
  return { x: v.x / l, y: v.y / l, z: v.z / l }
}
