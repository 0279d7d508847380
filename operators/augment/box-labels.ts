/**
 * Labels moved with the pixels. A box's corners go through the frame's map; the quadrilateral is clipped to the
 * output image; visibility = clipped area / transformed area, and a box is kept when visibility >= minVisibility
 * (inclusive: exactly at the threshold stays). KITTI's 3D fields describe the source camera and are kept, except
 * that a horizontal flip mirrors them.
 */
import { apply, bounds, clipToRect, corners, polygonArea, type Affine, type Point, type Rect } from './geometry.ts'

/** One object of a frame, as read from labels/kitti (2D box and the fields we carry) and coco.json. */
export interface FrameObject {
  cls: string
  truncated: number
  occluded: number
  alpha: number
  box: Rect
  /** h w l x y z rotation_y, as in the KITTI line. */
  dims: [number, number, number]
  location: [number, number, number]
  rotationY: number
  /** From coco.json when present. */
  actorId?: number
  categoryId?: number
  cocoVisibility?: number
}

export interface MovedObject extends FrameObject {
  /** Visible fraction of the transformed box inside the output image, [0, 1]. */
  visibility: number
  /** The clipped, transformed quadrilateral (for mask refinement). */
  region: Point[]
}

export interface BoxOptions {
  minVisibility: number
  flip: boolean
}

/** Transforms, clips and filters the frame's objects; the order of the kept ones is the input order. */
export function moveObjects(objects: readonly FrameObject[], m: Affine, outW: number, outH: number, opts: BoxOptions): MovedObject[] {
  const out: MovedObject[] = []
  for (const o of objects) {
    const quad = corners(o.box).map(([x, y]) => apply(m, x, y))
    const full = polygonArea(quad)
    if (!(full > 0)) continue
    const region = clipToRect(quad, outW, outH)
    const seen = region.length >= 3 ? polygonArea(region) : 0
    // Nothing visible is dropped whatever the threshold (minVisibility 0 must not keep boxes outside the image).
    if (seen <= 0) continue
    const visibility = Math.min(1, seen / full)
    if (visibility < opts.minVisibility) continue
    const box = bounds(region)
    out.push({
      ...o,
      box,
      visibility,
      region,
      truncated: Math.min(1, 1 - (1 - o.truncated) * visibility),
      ...(opts.flip ? mirror(o) : {}),
    })
  }
  return out
}

/** A mirrored scene: x negates, headings reflect about the camera's forward axis. */
function mirror(o: FrameObject): Pick<FrameObject, 'location' | 'rotationY' | 'alpha'> {
  return { location: [-o.location[0], o.location[1], o.location[2]], rotationY: wrap(Math.PI - o.rotationY), alpha: wrap(Math.PI - o.alpha) }
}

const wrap = (a: number): number => Math.atan2(Math.sin(a), Math.cos(a))

const f2 = (n: number): string => n.toFixed(2)

/** KITTI object lines, the same field layout the CARLA writer uses. */
export function kittiText(objects: readonly FrameObject[]): string {
  return objects
    .map(
      (o) =>
        [
          o.cls,
          f2(o.truncated),
          String(o.occluded),
          f2(o.alpha),
          f2(o.box.x1),
          f2(o.box.y1),
          f2(o.box.x2),
          f2(o.box.y2),
          ...o.dims.map(f2),
          ...o.location.map(f2),
          f2(o.rotationY),
        ].join(' ') + '\n',
    )
    .join('')
}

/** Parses one KITTI label file; a malformed line is an error naming the file and line. */
export function parseKitti(text: string, file: string): FrameObject[] {
  const out: FrameObject[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    const f = line.trim().split(/\s+/)
    const nums = f.slice(1, 15).map(Number)
    if (f.length < 15 || nums.some((n) => !Number.isFinite(n))) {
      throw new Error(`${file}:${i + 1}: a KITTI object line has a type and 14 numbers, got ${JSON.stringify(line)}`)
    }
    const [truncated, occluded, alpha, x1, y1, x2, y2, h, w, l, x, y, z, ry] = nums as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ]
    out.push({ cls: f[0]!, truncated, occluded, alpha, box: { x1, y1, x2, y2 }, dims: [h, w, l], location: [x, y, z], rotationY: ry })
  })
  return out
}
