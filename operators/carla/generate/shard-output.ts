/**
 * The shard's directory: frames/<sensor>/<frame>.png|raw, labels/kitti/<frame>.txt, labels/coco.json and
 * manifest.json. The manifest is written last and atomically, so a directory with a manifest is complete.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import path from 'node:path'
import type { ImageData } from '../client/stream-sensor-data.ts'
import { CocoWriter } from '../labels/coco.ts'
import { kittiFile } from '../labels/kitti.ts'
import type { ObjectLabel } from '../labels/label-frame.ts'
import type { Encoding, WriterPool, WrittenFile } from './writer-pool.ts'

export type SensorKind = 'rgb' | 'depth' | 'semantic' | 'instance' | 'other'

export function sensorKind(blueprint: string): SensorKind {
  if (blueprint === 'sensor.camera.rgb') return 'rgb'
  if (blueprint === 'sensor.camera.depth') return 'depth'
  if (blueprint === 'sensor.camera.semantic_segmentation') return 'semantic'
  if (blueprint === 'sensor.camera.instance_segmentation') return 'instance'
  return 'other'
}

/** PNG: RGB for colour, depth keeps CARLA's 24-bit encoding losslessly as RGB, semantic keeps only the tag (R). */
function encodingFor(kind: SensorKind, format: 'png' | 'raw'): { encoding: Encoding; ext: string } {
  if (format === 'raw' || kind === 'other') return { encoding: 'raw', ext: kind === 'other' ? 'bin' : 'raw' }
  return { encoding: kind === 'semantic' ? 'png-gray-r' : 'png-rgb', ext: 'png' }
}

export interface ManifestSensor {
  name: string
  blueprint: string
  actorId: number
  kind: SensorKind
  width?: number
  height?: number
  fov?: number
  /** 'bgra8' for .raw files, 'png' otherwise. */
  pixelFormat: string
}

export class ShardOutput {
  readonly coco = new CocoWriter()
  private readonly files: WrittenFile[] = []
  private readonly pending: Array<Promise<unknown>> = []
  private labelCount = 0
  readonly frames: Array<{ frame: number; timestamp: number; objects: number }> = []

  constructor(
    readonly dir: string,
    private readonly pool: WriterPool,
    private readonly format: 'png' | 'raw',
  ) {}

  /** A retried shard starts from an empty directory, so no stale frame survives from an earlier attempt. */
  async prepare(sensorNames: readonly string[]): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
    await mkdir(path.join(this.dir, 'labels', 'kitti'), { recursive: true })
    for (const s of sensorNames) await mkdir(path.join(this.dir, 'frames', s), { recursive: true })
  }

  /** Queues one sensor frame; the returned promise is tracked, so failures surface in finish(). */
  addImage(sensor: string, kind: SensorKind, frame: number, img: ImageData): void {
    const { encoding, ext } = encodingFor(kind, this.format)
    const rel = path.join('frames', sensor, `${pad(frame)}.${ext}`)
    const p = this.pool.submit({ path: path.join(this.dir, rel), encoding, width: img.width, height: img.height, pixels: img.pixels })
    this.track(p.then((f) => this.files.push({ ...f, path: rel })))
  }

  /** Non-image sensors: the payload after the 48-byte header, as is. */
  addRaw(sensor: string, frame: number, payload: Buffer): void {
    const rel = path.join('frames', sensor, `${pad(frame)}.bin`)
    const p = this.pool.submit({ path: path.join(this.dir, rel), encoding: 'raw', width: 0, height: 0, pixels: payload })
    this.track(p.then((f) => this.files.push({ ...f, path: rel })))
  }

  addLabels(frame: number, timestamp: number, camera: { sensor: string; width: number; height: number }, objects: readonly ObjectLabel[]): void {
    const ext = this.format === 'raw' ? 'raw' : 'png'
    this.coco.addImage({ file_name: `frames/${camera.sensor}/${pad(frame)}.${ext}`, width: camera.width, height: camera.height, frame }, objects)
    this.labelCount += objects.length
    this.frames.push({ frame, timestamp, objects: objects.length })
    this.track(this.writeText(path.join('labels', 'kitti', `${pad(frame)}.txt`), kittiFile(objects)))
  }

  get labels(): number {
    return this.labelCount
  }

  /** Waits for every file, then writes coco.json and, last, manifest.json. Returns total bytes written. */
  async finish(manifest: Record<string, unknown>): Promise<number> {
    await Promise.all(this.pending)
    await this.writeText(path.join('labels', 'coco.json'), JSON.stringify(this.coco.toJSON({ description: 'adas-forge CARLA shard' })))
    const files = this.files.slice().sort((a, b) => a.path.localeCompare(b.path))
    const bytes = files.reduce((n, f) => n + f.bytes, 0)
    const body = JSON.stringify({ ...manifest, frames: this.frames, labels: this.labelCount, bytes, files }, null, 2)
    const tmp = path.join(this.dir, 'manifest.json.tmp')
    await writeFile(tmp, body)
    await rename(tmp, path.join(this.dir, 'manifest.json'))
    return bytes + Buffer.byteLength(body)
  }

  private track(p: Promise<unknown>): void {
    // Attach a handler now so a failure is not an unhandled rejection before finish() awaits it.
    p.catch(() => {})
    this.pending.push(p)
  }

  private async writeText(rel: string, text: string): Promise<void> {
    await writeFile(path.join(this.dir, rel), text)
    this.files.push({ path: rel, bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') })
  }
}

export const pad = (frame: number): string => String(frame).padStart(8, '0')
