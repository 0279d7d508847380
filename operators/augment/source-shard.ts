/**
 * Reading a generated shard for augmentation: its manifest (only a shard with one is complete), which file holds
 * each sensor's frame, and the frame's objects from labels/kitti paired with coco.json. Every path taken from the
 * manifest is split into segments that must each be a plain name, so no entry can point outside the shard, and
 * the output names built from them cannot leave the output folder.
 */
import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { insideFolder, safeSegment, TaskFailure } from '../../runtime/index.ts'
import { parseKitti, type FrameObject } from './box-labels.ts'
import type { SensorKind } from './augment-frame.ts'

const manifestSchema = z
  .object({
    shard: z.string(),
    sensors: z.array(
      z
        .object({
          name: z.string(),
          kind: z.enum(['rgb', 'depth', 'semantic', 'instance', 'other']),
          pixelFormat: z.string(),
          width: z.number().int().positive().optional(),
          height: z.number().int().positive().optional(),
          attributes: z.record(z.string(), z.unknown()).optional(),
        })
        .passthrough(),
    ),
    frames: z.array(z.object({ frame: z.number().int().min(0), timestamp: z.number().optional() }).passthrough()),
    files: z.array(z.object({ path: z.string(), bytes: z.number(), sha256: z.string() })),
  })
  .passthrough()

export type SourceManifest = z.infer<typeof manifestSchema>

export interface SourceSensor {
  name: string
  kind: SensorKind
  pixelFormat: string
  width?: number
  height?: number
}

export interface SourceFrame {
  frame: number
  timestamp?: number
  /** The frame's file stem ('00000042'), the same for every sensor and the label file. */
  stem: string
  /** Sensor name → [relative path segments]. */
  images: Map<string, string[]>
  kitti: string[] | null
}

export interface SourceShard {
  dir: string
  manifest: SourceManifest
  sensors: SourceSensor[]
  frames: SourceFrame[]
  labelSensor: string | null
  coco: CocoSource | null
}

interface CocoSource {
  images: Array<{ id: number; frame: number; file_name: string }>
  annotations: Array<{ image_id: number; category_id: number; carla_actor_id?: number; visibility?: number }>
}

export class ShardFormatError extends TaskFailure {
  constructor(message: string) {
    super(message, 'ShardFormatError', true)
  }
}

export async function readSourceShard(dir: string): Promise<SourceShard> {
  const file = insideFolder(dir, 'manifest.json')
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new ShardFormatError(`${file}: ${(err as Error).message} (a shard is complete only once its manifest is written)`)
  }
  const parsed = manifestSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ShardFormatError(`${file}: field '${issue.path.map(String).join('.') || '(root)'}': ${issue.message}`)
  }
  const manifest = parsed.data
  const sensors = manifest.sensors.map((s) => ({
    name: safeSegment(s.name, `sensor name in ${file}`),
    kind: s.kind,
    pixelFormat: s.pixelFormat,
    width: s.width ?? num(s.attributes?.image_size_x),
    height: s.height ?? num(s.attributes?.image_size_y),
  }))
  // path → segments, each one checked: 'frames/<sensor>/<stem>.<ext>' and 'labels/kitti/<stem>.txt' only.
  const byStem = new Map<string, string[]>()
  for (const f of manifest.files) {
    const seg = f.path.split('/')
    for (const s of seg) safeSegment(s, `file path ${JSON.stringify(f.path)} in ${file}`)
    insideFolder(dir, ...seg)
    if (seg.length === 3 && (seg[0] === 'frames' || (seg[0] === 'labels' && seg[1] === 'kitti')))
      byStem.set(`${seg[0]}/${seg[1]}/${stemOf(seg[2]!)}`, seg)
  }
  const frames = manifest.frames.map((fr) => {
    const stem = String(fr.frame).padStart(8, '0')
    const images = new Map<string, string[]>()
    for (const s of sensors) {
      const seg = byStem.get(`frames/${s.name}/${stem}`)
      if (!seg) throw new ShardFormatError(`${file}: frame ${fr.frame} has no file for sensor '${s.name}' in 'files'`)
      images.set(s.name, seg)
    }
    return { frame: fr.frame, timestamp: fr.timestamp, stem, images, kitti: byStem.get(`labels/kitti/${stem}`) ?? null }
  })
  const coco = await readCoco(dir)
  const labelSensor = coco?.images[0]?.file_name.split('/')[1] ?? sensors.find((s) => s.kind === 'rgb')?.name ?? null
  if (labelSensor !== null && !sensors.some((s) => s.name === labelSensor))
    throw new ShardFormatError(`${dir}/labels/coco.json: images refer to sensor '${labelSensor}', which the manifest does not list`)
  return { dir, manifest, sensors, frames, labelSensor, coco }
}

async function readCoco(dir: string): Promise<CocoSource | null> {
  const file = insideFolder(dir, 'labels', 'coco.json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return null
  }
  const coco = JSON.parse(text) as CocoSource
  if (!Array.isArray(coco.images) || !Array.isArray(coco.annotations)) throw new ShardFormatError(`${file}: needs 'images' and 'annotations' arrays`)
  return coco
}

/** The frame's objects: KITTI lines, with the COCO annotation of the same frame and position (actor id, category). */
export async function frameObjects(
  shard: SourceShard,
  fr: SourceFrame,
  annotationsByFrame: Map<number, CocoSource['annotations']>,
): Promise<FrameObject[]> {
  if (!fr.kitti) return []
  const rel = fr.kitti.join('/')
  const objects = parseKitti(await readFile(insideFolder(shard.dir, ...fr.kitti), 'utf8'), rel)
  const anns = annotationsByFrame.get(fr.frame)
  if (!anns) return objects
  if (anns.length !== objects.length)
    throw new ShardFormatError(`${rel}: ${objects.length} objects, but coco.json has ${anns.length} for frame ${fr.frame}`)
  return objects.map((o, i) => ({ ...o, actorId: anns[i]!.carla_actor_id, categoryId: anns[i]!.category_id, cocoVisibility: anns[i]!.visibility }))
}

export function annotationsByFrame(coco: CocoSource | null): Map<number, CocoSource['annotations']> {
  const out = new Map<number, CocoSource['annotations']>()
  if (!coco) return out
  const frameOf = new Map(coco.images.map((im) => [im.id, im.frame]))
  for (const fr of coco.images) out.set(fr.frame, [])
  for (const a of coco.annotations) out.get(frameOf.get(a.image_id) ?? -1)?.push(a)
  return out
}

const stemOf = (name: string): string => (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name)
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined)
