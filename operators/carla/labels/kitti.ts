/**
 * KITTI object label lines: `type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y`, one object per
 * line, camera coordinates in metres.
 */
import type { ObjectLabel } from './label-frame.ts'

const f2 = (n: number): string => n.toFixed(2)

export function kittiLine(o: ObjectLabel): string {
  const { box: b, dimensions: d, location: p } = o
  return [
    o.cls,
    f2(Math.min(1, b.truncation)),
    String(o.occluded),
    f2(o.alpha),
    f2(b.x1),
    f2(b.y1),
    f2(b.x2),
    f2(b.y2),
    f2(d.h),
    f2(d.w),
    f2(d.l),
    f2(p.x),
    f2(p.y),
    f2(p.z),
    f2(o.rotationY),
  ].join(' ')
}

/** A whole file; an empty frame is an empty file, as in KITTI. */
export const kittiFile = (objects: readonly ObjectLabel[]): string => objects.map((o) => kittiLine(o) + '\n').join('')
