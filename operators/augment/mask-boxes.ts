/**
 * Tight boxes from a transformed segmentation image. A rotated box's axis-aligned bound is loose (its corners stick
 * out); the object's own pixels inside the transformed box give the tight one. Semantic images know classes, not
 * objects, so only pixels inside the object's transformed box count; instance images also match the object id.
 */
import { SemanticTag } from '../carla/client/stream-sensor-data.ts'
import { bounds, insideConvex } from './geometry.ts'
import type { MovedObject } from './box-labels.ts'
import type { RawImage } from './pixel-ops.ts'

/** Which CARLA semantic tags (docs/carla-protocol.md) each KITTI class's pixels carry. */
const CLASS_TAGS: Record<string, readonly number[]> = {
  Car: [SemanticTag.Car],
  Van: [SemanticTag.Car],
  Truck: [SemanticTag.Truck, SemanticTag.Bus],
  Pedestrian: [SemanticTag.Pedestrians],
  Cyclist: [SemanticTag.Bicycle, SemanticTag.Motorcycle, SemanticTag.Rider],
}

export interface MaskImage extends RawImage {
  /** 'semantic': tag in channel 0 (1-channel PNG); 'instance': tag in R, object id in G + 256·B. */
  kind: 'semantic' | 'instance'
}

/**
 * Replaces each object's box with the bound of its pixels in the mask, when it has any; an object with no pixel
 * of its class inside its region (occluded in the mask, or a class without tags) keeps its geometric box.
 */
export function tightenBoxes(objects: MovedObject[], mask: MaskImage): number {
  let tightened = 0
  for (const o of objects) {
    const tags = CLASS_TAGS[o.cls]
    if (!tags) continue
    const r = bounds(o.region)
    const x0 = Math.max(0, Math.floor(r.x1)),
      y0 = Math.max(0, Math.floor(r.y1))
    const x1 = Math.min(mask.width, Math.ceil(r.x2)),
      y1 = Math.min(mask.height, Math.ceil(r.y2))
    let bx1 = Infinity,
      by1 = Infinity,
      bx2 = -Infinity,
      by2 = -Infinity
    const C = mask.channels
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * mask.width + x) * C
        if (!tags.includes(mask.data[i]!)) continue
        if (mask.kind === 'instance' && o.actorId !== undefined && C >= 3 && mask.data[i + 1]! + 256 * mask.data[i + 2]! !== (o.actorId & 0xffff))
          continue
        if (!insideConvex(o.region, x + 0.5, y + 0.5)) continue
        ;((bx1 = Math.min(bx1, x)), (by1 = Math.min(by1, y)), (bx2 = Math.max(bx2, x + 1)), (by2 = Math.max(by2, y + 1)))
      }
    }
    if (bx1 === Infinity) continue
    o.box = { x1: Math.max(bx1, r.x1), y1: Math.max(by1, r.y1), x2: Math.min(bx2, r.x2), y2: Math.min(by2, r.y2) }
    tightened++
  }
  return tightened
}
