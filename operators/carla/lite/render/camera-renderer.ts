/**
 * One camera's frame producer: background copy, lane dashes for the camera's x, boxes on top, written straight
 * into a ready-to-send stream message `[u32 length][48-byte header][u32 w, u32 h, f32 fov][W·H BGRA]`.
 *
 * Message buffers come from a small pool and go back only when every socket write of them has completed, so a
 * buffer is never mutated while the kernel may still be copying it.
 */
import type { CameraSpec } from '../world/actor.ts'
import type { Transform } from '../world/geom.ts'
import type { RoadLayout } from '../world/road-map.ts'
import type { Weather } from '../wire/carla-structs.ts'
import { HEADER_BYTES, writeSensorHeader } from '../stream/sensor-header.ts'
import { dashOn } from './background.ts'
import { backgroundFor, lightingCached } from './background-cache.ts'
import { cameraModel } from './camera-model.ts'
import { Tag, semanticPixel } from './encodings.ts'
import { drawBox, type BoxInstance, type OutputKind, type RasterTarget } from './rasterize-box.ts'

const PIXELS_AT = 4 + HEADER_BYTES + 12
const POOL_LIMIT = 4

export interface RenderedMessage {
  msg: Buffer
  release(): void
}

export class CameraRenderer {
  private readonly pool: { buf: Buffer; busy: boolean }[] = []
  private readonly z: Float32Array
  private readonly stamp: Uint32Array
  private cur = 0

  constructor(
    readonly spec: CameraSpec,
    readonly kind: OutputKind,
    readonly sensorType: number,
  ) {
    const n = spec.width * spec.height
    this.z = new Float32Array(n)
    this.stamp = new Uint32Array(n)
  }

  render(frame: number, timestamp: number, pose: Transform, map: RoadLayout, weather: Weather, boxes: readonly BoxInstance[]): RenderedMessage {
    const { width: W, height: H, fov } = this.spec
    const cam = cameraModel(pose, W, H, fov)
    const light = lightingCached(weather)
    const bg = backgroundFor(cam, pose, fov, map, weather, light)
    const slot = this.acquire()
    const buf = slot.buf
    buf.writeUInt32LE(buf.length - 4, 0)
    writeSensorHeader(buf, 4, this.sensorType, frame, timestamp, pose)
    buf.writeUInt32LE(W, 4 + HEADER_BYTES)
    buf.writeUInt32LE(H, 8 + HEADER_BYTES)
    buf.writeFloatLE(fov, 12 + HEADER_BYTES)
    const out = new Uint32Array(buf.buffer, buf.byteOffset + PIXELS_AT, W * H)
    out.set(this.kind === 'rgb' ? bg.rgb : this.kind === 'depth' ? bg.depthEncoded : bg.semantic)
    if (this.kind !== 'depth') {
      const on = this.kind === 'rgb' ? bg.dashLineRgb : null
      const off = this.kind === 'rgb' ? bg.dashRoadRgb : null
      const lineTag = semanticPixel(Tag.RoadLine),
        roadTag = semanticPixel(Tag.Road)
      const x0 = pose.location.x
      for (let k = 0; k < bg.dashIndex.length; k++) {
        const lit = dashOn(x0 + bg.dashRelX[k])
        out[bg.dashIndex[k]] = on ? (lit ? on[k] : off![k]) : lit ? lineTag : roadTag
      }
    }
    if (boxes.length) {
      if (++this.cur === 0xffffffff) {
        this.stamp.fill(0)
        this.cur = 1
      }
      const target: RasterTarget = { kind: this.kind, out, bgDepth: bg.depth, z: this.z, stamp: this.stamp, cur: this.cur }
      for (const box of boxes) drawBox(cam, light, box, target)
    }
    return { msg: buf, release: () => (slot.busy = false) }
  }

  private acquire(): { buf: Buffer; busy: boolean } {
    let slot = this.pool.find((s) => !s.busy)
    if (!slot) {
      // allocUnsafeSlow: a private ArrayBuffer at offset 0, so the pixel view at byte 64 is 4-byte aligned.
      slot = { buf: Buffer.allocUnsafeSlow(PIXELS_AT + this.spec.width * this.spec.height * 4), busy: false }
      if (this.pool.length < POOL_LIMIT) this.pool.push(slot)
    }
    slot.busy = true
    return slot
  }
}
