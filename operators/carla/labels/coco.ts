/**
 * COCO detection JSON, accumulated frame by frame and written once at the end of a shard.
 */
import type { ObjectClass, ObjectLabel } from './label-frame.ts'

export const COCO_CATEGORIES: ReadonlyArray<{ id: number; name: ObjectClass }> = [
  { id: 1, name: 'Car' },
  { id: 2, name: 'Van' },
  { id: 3, name: 'Truck' },
  { id: 4, name: 'Pedestrian' },
  { id: 5, name: 'Cyclist' },
  { id: 6, name: 'Misc' },
]
const categoryId = new Map(COCO_CATEGORIES.map((c) => [c.name, c.id]))

export interface CocoImage {
  id: number
  file_name: string
  width: number
  height: number
  frame: number
}
export interface CocoAnnotation {
  id: number
  image_id: number
  category_id: number
  /** [x, y, width, height], pixels. */
  bbox: [number, number, number, number]
  area: number
  iscrowd: 0
  carla_actor_id: number
  visibility: number
}

export class CocoWriter {
  private readonly images: CocoImage[] = []
  private readonly annotations: CocoAnnotation[] = []

  addImage(image: Omit<CocoImage, 'id'>, objects: readonly ObjectLabel[]): number {
    const id = this.images.length + 1
    this.images.push({ id, ...image })
    for (const o of objects) {
      const w = o.box.x2 - o.box.x1
      const h = o.box.y2 - o.box.y1
      this.annotations.push({
        id: this.annotations.length + 1,
        image_id: id,
        category_id: categoryId.get(o.cls)!,
        bbox: [round(o.box.x1), round(o.box.y1), round(w), round(h)],
        area: round(w * h),
        iscrowd: 0,
        carla_actor_id: o.actorId,
        visibility: round(o.visibility),
      })
    }
    return id
  }

  get annotationCount(): number {
    return this.annotations.length
  }

  toJSON(info: Record<string, unknown> = {}): object {
    return { info, images: this.images, annotations: this.annotations, categories: COCO_CATEGORIES }
  }
}

const round = (n: number): number => Math.round(n * 100) / 100
