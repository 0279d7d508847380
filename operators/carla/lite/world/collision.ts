/**
 * Spawn-time overlap test. CARLA refuses a spawn whose body would intersect another actor; carla-lite has no
 * physics, so it checks the ground footprints (oriented rectangles, separating-axis test) of vehicles and walkers.
 */
import type { SimActor } from './actor.ts'
import { transformPoint, vec, type BoundingBox, type Transform } from './geom.ts'

type Pt = [number, number]

export function footprint(box: BoundingBox, t: Transform): Pt[] {
  const world: Transform = { location: transformPoint(t, box.location), rotation: { pitch: 0, yaw: t.rotation.yaw + box.rotation.yaw, roll: 0 } }
  return [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ].map(([sx, sy]) => {
    const p = transformPoint(world, vec(sx * box.extent.x, sy * box.extent.y, 0))
    return [p.x, p.y] as Pt
  })
}

function separated(a: Pt[], b: Pt[]): boolean {
  for (const poly of [a, b]) {
    for (let i = 0; i < poly.length; i++) {
      const [x1, y1] = poly[i]
      const [x2, y2] = poly[(i + 1) % poly.length]
      const nx = y2 - y1,
        ny = x1 - x2
      const project = (p: Pt[]): [number, number] => {
        let lo = Infinity,
          hi = -Infinity
        for (const [x, y] of p) {
          const d = x * nx + y * ny
          lo = Math.min(lo, d)
          hi = Math.max(hi, d)
        }
        return [lo, hi]
      }
      const [alo, ahi] = project(a)
      const [blo, bhi] = project(b)
      if (ahi <= blo || bhi <= alo) return true
    }
  }
  return false
}

export function collidesWithAny(box: BoundingBox, t: Transform, others: Iterable<{ actor: SimActor; world: Transform }>): SimActor | null {
  const mine = footprint(box, t)
  for (const { actor, world } of others) {
    if (actor.info?.kind !== 'vehicle' && actor.info?.kind !== 'walker') continue
    if (!separated(mine, footprint(actor.box, world))) return actor
  }
  return null
}
