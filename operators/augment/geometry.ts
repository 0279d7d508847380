/**
 * 2D affine maps in continuous pixel coordinates (pixel i covers [i, i+1), its centre at i + 0.5), and the box
 * arithmetic labels need: corners through a map, clipping the resulting quadrilateral to the image, its area.
 */

/** x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Affine = readonly [number, number, number, number, number, number]

export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0]

/** `outer ∘ inner`: first inner, then outer. */
export function compose(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer
  const [A, B, C, D, E, F] = inner
  return [a * A + b * D, a * B + b * E, a * C + b * F + c, d * A + e * D, d * B + e * E, d * C + e * F + f]
}

export function invert(m: Affine): Affine {
  const [a, b, c, d, e, f] = m
  const det = a * e - b * d
  if (det === 0) throw new Error('affine map is singular')
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det]
}

export function apply(m: Affine, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]
}

/** True when the map keeps axis-aligned rectangles axis-aligned (flip, crop, scale; no rotation or shear). */
export const axisAligned = (m: Affine): boolean => Math.abs(m[1]) < 1e-12 && Math.abs(m[3]) < 1e-12

export const flipMatrix = (width: number): Affine => [-1, 0, width, 0, 1, 0]

/** The window (x, y, w, h) of the input scaled onto an outW × outH image. */
export const cropMatrix = (x: number, y: number, w: number, h: number, outW: number, outH: number): Affine => [
  outW / w,
  0,
  (-x * outW) / w,
  0,
  outH / h,
  (-y * outH) / h,
]

/** Rotation by `degrees` (counter-clockwise as seen on screen, y pointing down) and scale about (cx, cy). */
export function rotateScaleAbout(degrees: number, scale: number, cx: number, cy: number): Affine {
  const t = (degrees * Math.PI) / 180
  const cos = scale * Math.cos(t)
  const sin = scale * Math.sin(t)
  return [cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy]
}

export type Point = [number, number]

/** Shoelace area, always positive. */
export function polygonArea(pts: readonly Point[]): number {
  let s = 0
  for (let i = 0; i < pts.length; i++) {
    const [x1, y1] = pts[i]!
    const [x2, y2] = pts[(i + 1) % pts.length]!
    s += x1 * y2 - x2 * y1
  }
  return Math.abs(s) / 2
}

/** Sutherland-Hodgman against [0, w] × [0, h]. */
export function clipToRect(pts: readonly Point[], w: number, h: number): Point[] {
  const edges: Array<[(p: Point) => number, number]> = [
    [(p) => p[0], 0],
    [(p) => -p[0], -w],
    [(p) => p[1], 0],
    [(p) => -p[1], -h],
  ]
  let out: Point[] = pts.slice()
  for (const [value, min] of edges) {
    const input = out
    out = []
    for (let i = 0; i < input.length; i++) {
      const cur = input[i]!
      const prev = input[(i + input.length - 1) % input.length]!
      const vc = value(cur) - min
      const vp = value(prev) - min
      if (vc >= 0) {
        if (vp < 0) out.push(intersect(prev, cur, vp, vc))
        out.push(cur)
      } else if (vp >= 0) out.push(intersect(prev, cur, vp, vc))
    }
    if (out.length === 0) break
  }
  return out
}

function intersect(a: Point, b: Point, va: number, vb: number): Point {
  const t = va / (va - vb)
  return [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
}

export interface Rect {
  x1: number
  y1: number
  x2: number
  y2: number
}

export function bounds(pts: readonly Point[]): Rect {
  let x1 = Infinity,
    y1 = Infinity,
    x2 = -Infinity,
    y2 = -Infinity
  for (const [x, y] of pts) {
    ;((x1 = Math.min(x1, x)), (y1 = Math.min(y1, y)), (x2 = Math.max(x2, x)), (y2 = Math.max(y2, y)))
  }
  return { x1, y1, x2, y2 }
}

export const corners = (r: Rect): Point[] => [
  [r.x1, r.y1],
  [r.x2, r.y1],
  [r.x2, r.y2],
  [r.x1, r.y2],
]

/** Is the point inside the convex polygon (either winding)? */
export function insideConvex(pts: readonly Point[], x: number, y: number): boolean {
  let sign = 0
  for (let i = 0; i < pts.length; i++) {
    const [x1, y1] = pts[i]!
    const [x2, y2] = pts[(i + 1) % pts.length]!
    const cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
    if (cross === 0) continue
    if (sign === 0) sign = Math.sign(cross)
    else if (Math.sign(cross) !== sign) return false
  }
  return true
}
