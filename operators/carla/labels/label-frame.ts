/**
 * Turns one frame (world state + one camera + optional depth/semantic images) into object labels: 2D box,
 * visibility, and the KITTI 3D fields in camera coordinates.
 */
import type { Actor } from '../client/codecs/actor.ts'
import type { Transform } from '../client/codecs/geom.ts'
import { SemanticTag } from '../client/stream-sensor-data.ts'
import { inverseTransformPoint, transformPoint, ueToCamera } from './geometry.ts'
import { projectBox, visibleFraction, type Box2D, type CameraModel, type OcclusionInput } from './project-box.ts'

export type ObjectClass = 'Car' | 'Van' | 'Truck' | 'Pedestrian' | 'Cyclist' | 'Misc'

export interface ObjectLabel {
  actorId: number
  cls: ObjectClass
  box: Box2D
  /** Fraction of the box showing the object (1 when no depth/semantic image was given). */
  visibility: number
  /** KITTI: 0 fully visible, 1 partly, 2 largely occluded. */
  occluded: 0 | 1 | 2
  /** Height, width, length in metres. */
  dimensions: { h: number; w: number; l: number }
  /** Bottom centre of the box in camera coordinates (x right, y down, z forward), metres. */
  location: { x: number; y: number; z: number }
  rotationY: number
  alpha: number
}

export interface LabelOptions {
  /** Drop objects whose visible fraction is below this (default 0.05). */
  minVisibility?: number
  /** Drop objects farther than this, metres (default 150). */
  maxDistance?: number
}

export function classify(actor: Actor): ObjectClass | null {
  const id = actor.description.id
  if (id.startsWith('walker.')) return 'Pedestrian'
  if (!id.startsWith('vehicle.')) return null
  const tags = actor.semanticTags
  if (tags.includes(SemanticTag.Bicycle) || tags.includes(SemanticTag.Motorcycle)) return 'Cyclist'
  if (tags.includes(SemanticTag.Truck) || tags.includes(SemanticTag.Bus)) return 'Truck'
  return 'Car'
}

const wrap = (a: number): number => Math.atan2(Math.sin(a), Math.cos(a))

export function labelFrame(
  objects: ReadonlyArray<{ actor: Actor; transform: Transform }>,
  cam: CameraModel,
  occlusion: Omit<OcclusionInput, 'tags'> = { width: cam.width, height: cam.height },
  opts: LabelOptions = {},
): ObjectLabel[] {
  const minVis = opts.minVisibility ?? 0.05
  const maxDist = opts.maxDistance ?? 150
  const out: ObjectLabel[] = []
  for (const { actor, transform } of objects) {
    const cls = classify(actor)
    if (!cls) continue
    const box = projectBox(actor.boundingBox, transform, cam)
    if (!box || box.depth > maxDist) continue
    const visibility = visibleFraction(box, { ...occlusion, tags: actor.semanticTags })
    if (visibility < minVis) continue
    const bb = actor.boundingBox
    const centre = ueToCamera(inverseTransformPoint(cam.transform, transformPoint(transform, bb.location)))
    const h = 2 * bb.extent.z
    // KITTI: yaw 0 faces camera +x; a UE yaw equal to the camera's faces +z, hence the −π/2.
    const rotationY = wrap(((transform.rotation.yaw - cam.transform.rotation.yaw) * Math.PI) / 180 - Math.PI / 2)
    out.push({
      actorId: actor.id,
      cls,
      box,
      visibility,
      occluded: visibility > 0.8 ? 0 : visibility > 0.4 ? 1 : 2,
      dimensions: { h, w: 2 * bb.extent.y, l: 2 * bb.extent.x },
      location: { x: centre.x, y: centre.y + h / 2, z: centre.z },
      rotationY,
      alpha: wrap(rotationY - Math.atan2(centre.x, centre.z)),
    })
  }
  return out
}
