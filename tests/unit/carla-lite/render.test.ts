/**
 * The renderer against the projection formula clients use (docs/carla-protocol.md §6 step 10), computed here
 * independently: a box must cover the pixels its projected corners predict, road depth must decode to the
 * ground-plane distance, and the sky must sit above the horizon.
 */
import { describe, expect, it } from 'vitest'
import { CameraRenderer } from '../../../operators/carla/lite/render/camera-renderer.ts'
import { boxWorldCorners } from '../../../operators/carla/lite/world/geom.ts'
import { findMap } from '../../../operators/carla/lite/world/road-map.ts'
import { defaultWeather } from '../../../operators/carla/lite/wire/carla-structs.ts'
import type { BoxInstance } from '../../../operators/carla/lite/render/rasterize-box.ts'

const W = 800,
  H = 600,
  FOV = 90
const PIX = 64 // 4-byte length + 48-byte header + 12-byte image header
const map = findMap('Town10HD_Opt')!
const cameraPose = { location: { x: 0, y: 0, z: 2 }, rotation: { pitch: 0, yaw: 0, roll: 0 } }
const carBox = { location: { x: 0, y: 0, z: 0.75 }, extent: { x: 2.4, y: 1.08, z: 0.75 }, rotation: { pitch: 0, yaw: 0, roll: 0 } }
const carPose = { location: { x: 20, y: 3, z: 0 }, rotation: { pitch: 0, yaw: 30, roll: 0 } }

/** Projection with the reference's formulas, for a camera with zero rotation (camera-local = world − origin). */
function project(p: { x: number; y: number; z: number }): [number, number] {
  const fx = W / (2 * Math.tan((FOV * Math.PI) / 360))
  const x = p.x - cameraPose.location.x,
    y = p.y - cameraPose.location.y,
    z = p.z - cameraPose.location.z
  // UE (x fwd, y right, z up) → camera (y, −z, x)
  return [(fx * y) / x + W / 2, (fx * -z) / x + H / 2]
}

function render(kind: 'rgb' | 'depth' | 'semantic', boxes: BoxInstance[]): Buffer {
  const type = kind === 'rgb' ? 13 : kind === 'depth' ? 1 : 14
  const r = new CameraRenderer({ width: W, height: H, fov: FOV, sensorTick: 0 }, kind, type)
  return Buffer.from(r.render(7, 0.35, cameraPose, map, defaultWeather(), boxes).msg)
}

const px = (img: Buffer, u: number, v: number): [number, number, number] => {
  const o = PIX + (v * W + u) * 4
  return [img[o + 2], img[o + 1], img[o]] // R, G, B from BGRA
}

describe('carla-lite renderer', () => {
  const corners = boxWorldCorners(carBox, carPose)
  const car: BoxInstance = { corners, color: [200, 30, 30], tag: 14 }
  const uv = corners.map(project)
  const [umin, umax] = [Math.min(...uv.map((p) => p[0])), Math.max(...uv.map((p) => p[0]))]
  const [vmin, vmax] = [Math.min(...uv.map((p) => p[1])), Math.max(...uv.map((p) => p[1]))]

  it('writes the stream framing, sensor header and image header', () => {
    const img = render('semantic', [car])
    expect(img.readUInt32LE(0)).toBe(48 + 12 + W * H * 4)
    expect(Number(img.readBigUInt64LE(4))).toBe(14)
    expect(Number(img.readBigUInt64LE(12))).toBe(7)
    expect(img.readDoubleLE(20)).toBeCloseTo(0.35)
    expect(img.readFloatLE(36)).toBeCloseTo(2)
    expect([img.readUInt32LE(52), img.readUInt32LE(56), img.readFloatLE(60)]).toEqual([W, H, FOV])
  })

  it('draws the car (tag 14) exactly over the projected 2D box of its bounding box', () => {
    const img = render('semantic', [car])
    let [i0, i1, j0, j1] = [W, -1, H, -1]
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        if (px(img, u, v)[0] !== 14) continue
        i0 = Math.min(i0, u)
        i1 = Math.max(i1, u)
        j0 = Math.min(j0, v)
        j1 = Math.max(j1, v)
      }
    }
    // Pixel i is painted when its centre i+0.5 lies inside the hull: extents agree to within one pixel.
    expect(Math.abs(i0 - umin)).toBeLessThanOrEqual(1)
    expect(Math.abs(i1 + 1 - umax)).toBeLessThanOrEqual(1)
    expect(Math.abs(j0 - vmin)).toBeLessThanOrEqual(1)
    expect(Math.abs(j1 + 1 - vmax)).toBeLessThanOrEqual(1)
    const centre = project({ x: carPose.location.x, y: carPose.location.y, z: carBox.extent.z }) // box centre
    expect(px(img, Math.floor(centre[0]), Math.floor(centre[1]))[0]).toBe(14)
  })

  it('encodes road depth as the ground-plane distance and the car nearer than the road behind it', () => {
    const depth = render('depth', [car])
    const decode = (u: number, v: number): number => {
      const [r, g, b] = px(depth, u, v)
      return ((r + g * 256 + b * 65536) / (256 ** 3 - 1)) * 1000
    }
    const fx = W / (2 * Math.tan((FOV * Math.PI) / 360))
    for (const v of [350, 420, 599]) {
      // Planar depth of the ground seen through pixel row v: camera height · fx / (v + 0.5 − cy).
      const expected = (2 * fx) / (v + 0.5 - H / 2)
      expect(decode(100, v)).toBeCloseTo(expected, 2)
    }
    const c = project({ x: 20, y: 3, z: 0.75 })
    const carDepth = decode(Math.floor(c[0]), Math.floor(c[1]))
    expect(carDepth).toBeGreaterThan(17)
    expect(carDepth).toBeLessThan(21)
    expect(decode(5, 5)).toBeCloseTo(1000, 3) // sky is the far plane
  })

  it('puts sky (11) above the horizon, road (1) and road lines (24) below it', () => {
    const sem = render('semantic', [])
    for (let u = 0; u < W; u += 37) expect(px(sem, u, 10)[0]).toBe(11)
    expect(px(sem, W / 2 + 100, H - 1)[0]).toBe(1)
    // The centre line (y = 0) projects to the image's middle column.
    expect(px(sem, W / 2, H - 1)[0]).toBe(24)
    // The edge of the road (y = 7 m at 4 lanes) seen at 10 m: u = cx + fx·7/10 → sidewalk just outside.
    const fx = W / (2 * Math.tan((FOV * Math.PI) / 360))
    const vAt10 = Math.floor(H / 2 + (fx * 2) / 10)
    expect(px(sem, Math.floor(W / 2 + (fx * 8.5) / 10), vAt10)[0]).toBe(2)
  })

  it('shades the car in RGB and darkens the scene at night', () => {
    const c = project({ x: 20, y: 3, z: 0.75 })
    const day = render('rgb', [car])
    const rgb = px(day, Math.floor(c[0]), Math.floor(c[1]))
    expect(rgb[0]).toBeGreaterThan(rgb[1] + 40) // red car
    const r = new CameraRenderer({ width: W, height: H, fov: FOV, sensorTick: 0 }, 'rgb', 13)
    const night = Buffer.from(r.render(1, 0, cameraPose, map, { ...defaultWeather(), sunAltitudeAngle: -30 }, []).msg)
    const lum = (img: Buffer, u: number, v: number): number => px(img, u, v).reduce((a, b) => a + b, 0)
    expect(lum(night, 400, 20)).toBeLessThan(lum(day, 400, 20) / 3)
    expect(lum(night, 600, 550)).toBeLessThan(lum(day, 600, 550) / 2)
  })
})
