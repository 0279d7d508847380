/**
 * Synthetic shards in the generation layout: flat-coloured rectangles (and optionally discs) on a grey background,
 * their boxes in labels/kitti and coco.json, and a semantic image tagging each object's pixels, so a test knows
 * exactly which pixels belong to which box.
 */
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'

export interface SynthObject {
  cls: 'Car' | 'Pedestrian'
  /** Drawn as a filled rectangle, or a disc inscribed in the box. */
  shape: 'rect' | 'disc'
  box: { x1: number; y1: number; x2: number; y2: number }
  rgb: [number, number, number]
}

export const BACKGROUND: [number, number, number] = [60, 60, 60]
const TAG = { Car: 14, Pedestrian: 12 } as const

export const covers = (o: SynthObject, x: number, y: number): boolean => {
  const { x1, y1, x2, y2 } = o.box
  if (o.shape === 'rect') return x + 0.5 >= x1 && x + 0.5 < x2 && y + 0.5 >= y1 && y + 0.5 < y2
  const cx = (x1 + x2) / 2,
    cy = (y1 + y2) / 2,
    rx = (x2 - x1) / 2,
    ry = (y2 - y1) / 2
  return ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1
}

export interface SynthShard {
  dir: string
  name: string
  width: number
  height: number
}

/** Writes a shard with `frames` frames (numbered from 10), all showing the same objects. */
export async function writeSyntheticShard(
  parent: string,
  opts: {
    name?: string
    width: number
    height: number
    objects: SynthObject[]
    frames?: number
    semantic?: boolean
    raw?: boolean
    texture?: boolean
  },
): Promise<SynthShard> {
  const name = opts.name ?? 'synthetic'
  const dir = path.join(parent, name)
  const { width: W, height: H, objects } = opts
  // raw: BGRA8 .raw files as the CARLA writer's 'raw' format leaves them (the tag in R for semantic).
  const pixelFormat = opts.raw ? 'bgra8' : 'png'
  const ext = opts.raw ? 'raw' : 'png'
  const sensors = [
    { name: 'rgb', blueprint: 'sensor.camera.rgb', actorId: 1, kind: 'rgb', attributes: { image_size_x: W, image_size_y: H, fov: 90 }, pixelFormat },
  ]
  if (opts.semantic)
    sensors.push({
      name: 'semantic',
      blueprint: 'sensor.camera.semantic_segmentation',
      actorId: 2,
      kind: 'semantic',
      attributes: { image_size_x: W, image_size_y: H, fov: 90 },
      pixelFormat,
    })
  for (const s of sensors) await mkdir(path.join(dir, 'frames', s.name), { recursive: true })
  await mkdir(path.join(dir, 'labels', 'kitti'), { recursive: true })
  const rgb = Buffer.alloc(W * H * 3)
  const tags = Buffer.alloc(W * H)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = objects.find((ob) => covers(ob, x, y))
      rgb.set(o ? o.rgb : BACKGROUND, (y * W + x) * 3)
      tags[y * W + x] = o ? TAG[o.cls] : 1
    }
  }
  // texture: seeded grain on every colour pixel, so interpolation and blur see more than flat regions and edges.
  if (opts.texture)
    for (let i = 0, seed = 1; i < rgb.length; i++) ((seed = (seed * 1103515245 + 12345) >>> 0), (rgb[i] = Math.min(255, rgb[i]! + (seed >>> 26))))
  const files: Array<{ path: string; bytes: number; sha256: string }> = []
  const put = async (rel: string, body: Buffer | string): Promise<void> => {
    await writeFile(path.join(dir, rel), body)
    files.push({ path: rel, bytes: Buffer.byteLength(body), sha256: createHash('sha256').update(body).digest('hex') })
  }
  const bgra = (px: Buffer, channels: number): Buffer => {
    const out = Buffer.alloc(W * H * 4, 255)
    for (let i = 0; i < W * H; i++) {
      const [r, g, b] = channels === 3 ? [px[i * 3]!, px[i * 3 + 1]!, px[i * 3 + 2]!] : [px[i]!, 0, 0]
      ;((out[i * 4] = b), (out[i * 4 + 1] = g), (out[i * 4 + 2] = r))
    }
    return out
  }
  const rgbPng = opts.raw
    ? bgra(rgb, 3)
    : await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
        .png()
        .toBuffer()
  const tagPng = opts.raw
    ? bgra(tags, 1)
    : await sharp(tags, { raw: { width: W, height: H, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toBuffer()
  const frames: object[] = []
  const images: object[] = []
  const annotations: object[] = []
  const kitti = objects
    .map(
      (o) =>
        `${o.cls} 0.00 0 0.50 ${o.box.x1.toFixed(2)} ${o.box.y1.toFixed(2)} ${o.box.x2.toFixed(2)} ${o.box.y2.toFixed(2)} 1.50 1.80 4.00 2.00 1.50 20.00 0.30\n`,
    )
    .join('')
  for (let i = 0; i < (opts.frames ?? 1); i++) {
    const frame = 10 + i
    const stem = String(frame).padStart(8, '0')
    await put(`frames/rgb/${stem}.${ext}`, rgbPng)
    if (opts.semantic) await put(`frames/semantic/${stem}.${ext}`, tagPng)
    await put(`labels/kitti/${stem}.txt`, kitti)
    frames.push({ frame, timestamp: frame * 0.05, objects: objects.length })
    images.push({ id: i + 1, file_name: `frames/rgb/${stem}.${ext}`, width: W, height: H, frame })
    objects.forEach((o, k) =>
      annotations.push({
        id: annotations.length + 1,
        image_id: i + 1,
        category_id: o.cls === 'Car' ? 1 : 4,
        bbox: [o.box.x1, o.box.y1, o.box.x2 - o.box.x1, o.box.y2 - o.box.y1],
        area: (o.box.x2 - o.box.x1) * (o.box.y2 - o.box.y1),
        iscrowd: 0,
        carla_actor_id: 100 + k,
        visibility: 1,
      }),
    )
  }
  await put('labels/coco.json', JSON.stringify({ info: {}, images, annotations, categories: [] }))
  await writeFile(
    path.join(dir, 'manifest.json'),
    JSON.stringify({ shard: name, sensors, frames, labels: annotations.length, bytes: 0, files }, null, 2),
  )
  return { dir, name, width: W, height: H }
}

/** Decoded output frame as RGB (or the single tag channel). */
export async function readPixels(file: string): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  // Without extractChannel libvips turns a one-channel PNG into sRGB on the way out.
  const gray = (await sharp(file).metadata()).channels === 1
  const { data, info } = await (gray ? sharp(file).extractChannel(0) : sharp(file)).raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: info.channels }
}
