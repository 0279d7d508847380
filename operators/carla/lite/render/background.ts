/**
 * The static part of a camera image: sky, road, lane lines, sidewalks, terrain, with depth and tags.
 *
 * The scene is invariant along the world x axis except for the dashes of lane separators, so a background is
 * computed once per (map, image size, fov, camera y/z/rotation, weather) and reused while the camera slides along
 * x, as it does on an ego that drives down its lane. The dash pixels are kept in a side list and switched per
 * frame from the camera's x. Building one 1280×720 background costs tens of ms; reusing it costs a memcpy.
 */
import type { RoadLayout } from '../world/road-map.ts'
import { roadHalfWidth } from '../world/road-map.ts'
import type { CameraModel } from './camera-model.ts'
import { FAR_PLANE, Tag, depthPixel, semanticPixel } from './encodings.ts'
import { brightness, fogAmount, mix, type Lighting, type Rgb } from './lighting.ts'

export const DASH_PERIOD = 9
export const DASH_LENGTH = 3
const LINE_HALF = 0.075

export interface Background {
  rgb: Uint32Array
  semantic: Uint32Array
  depthEncoded: Uint32Array
  /** Planar depth in metres (FAR_PLANE for sky); the z-test reference for boxes. */
  depth: Float32Array
  /** Pixels on dashed separators: index, x relative to the camera, and both looks. */
  dashIndex: Int32Array
  dashRelX: Float32Array
  dashRoadRgb: Uint32Array
  dashLineRgb: Uint32Array
}

const ROAD: Rgb = [70, 70, 72]
const LINE: Rgb = [225, 225, 220]
const CENTRE: Rgb = [215, 175, 45]
const SIDEWALK: Rgb = [152, 150, 144]
const TERRAIN: Rgb = [84, 110, 60]
const UP = { x: 0, y: 0, z: 1 }

export function buildBackground(cam: CameraModel, map: RoadLayout, light: Lighting): Background {
  const { width: W, height: H, fx, cx, cy, forward: f, right: r, up: u } = cam
  const n = W * H
  const rgb = new Uint32Array(n),
    semantic = new Uint32Array(n),
    depthEncoded = new Uint32Array(n)
  const depth = new Float32Array(n)
  const dashIdx: number[] = [],
    dashX: number[] = [],
    dashRoad: number[] = [],
    dashLine: number[] = []
  const half = roadHalfWidth(map)
  const outer = half + map.sidewalkWidth
  const lw = map.laneWidth
  const lanes = map.lanesPerDirection
  // Lit ground colours per class, flattened to numbers: the loop below runs ~1M times per build and must not
  // allocate.
  const g = brightness(light, UP)
  const lit = (c: Rgb): Rgb => [c[0] * g, c[1] * g, c[2] * g]
  const palette = [lit(mix(ROAD, [0, 0, 0], light.wet)), lit(LINE), lit(CENTRE), lit(SIDEWALK), lit(TERRAIN)]
  const tags = [Tag.Road, Tag.RoadLine, Tag.RoadLine, Tag.Sidewalk, Tag.Terrain].map(semanticPixel)
  const [fogR, fogG, fogB] = light.fogColor
  const { fogK, fogStart } = light
  const shade = (c: Rgb, d: number): number => {
    const a = d <= fogStart || fogK === 0 ? 0 : 1 - Math.exp(-fogK * (d - fogStart))
    const rr = (c[0] + (fogR - c[0]) * a + 0.5) | 0,
      gg = (c[1] + (fogG - c[1]) * a + 0.5) | 0,
      bb = (c[2] + (fogB - c[2]) * a + 0.5) | 0
    return (clampByte(bb) | (clampByte(gg) << 8) | (clampByte(rr) << 16) | 0xff000000) >>> 0
  }
  const skyTag = semanticPixel(Tag.Sky)
  const skyDepth = depthPixel(FAR_PLANE)
  const skyFog = fogAmount(light, FAR_PLANE)
  const [hR, hG, hB] = light.skyHorizon
  const [tR, tG, tB] = light.skyTop
  const oz = cam.origin.z
  const oy = cam.origin.y
  const DEPTH_SCALE = (256 ** 3 - 1) / FAR_PLANE
  // With no roll the camera's right axis is horizontal, so every ground pixel of a row is at the same planar
  // depth: shade the five classes once per row instead of once per pixel (the fog's exp dominates otherwise).
  const levelRows = Math.abs(r.z) < 1e-9
  const rowColors = new Uint32Array(5)
  let rowT = -1
  for (let j = 0; j < H; j++) {
    const b = -(j + 0.5 - cy) / fx
    const rowX = f.x + u.x * b,
      rowY = f.y + u.y * b,
      rowZ = f.z + u.z * b
    if (levelRows && rowZ < 0 && oz > 0) {
      rowT = -oz / rowZ
      for (let c = 0; c < 5; c++) rowColors[c] = shade(palette[c], rowT)
    } else rowT = -1
    for (let i = 0; i < W; i++) {
      const a = (i + 0.5 - cx) / fx
      // Ray with unit forward component: the ray parameter is the planar depth itself.
      const dx = rowX + r.x * a
      const dy = rowY + r.y * a
      const dz = rowZ + r.z * a
      const k = j * W + i
      const t = dz < 0 && oz > 0 ? -oz / dz : Infinity
      if (t >= FAR_PLANE) {
        const elev = dz > 0 ? Math.sqrt(dz / Math.sqrt(dx * dx + dy * dy + dz * dz)) : 0
        const sr = hR + (tR - hR) * elev,
          sg = hG + (tG - hG) * elev,
          sb = hB + (tB - hB) * elev
        const rr = (sr + (fogR - sr) * skyFog + 0.5) | 0,
          gg = (sg + (fogG - sg) * skyFog + 0.5) | 0,
          bb = (sb + (fogB - sb) * skyFog + 0.5) | 0
        rgb[k] = (clampByte(bb) | (clampByte(gg) << 8) | (clampByte(rr) << 16) | 0xff000000) >>> 0
        semantic[k] = skyTag
        depthEncoded[k] = skyDepth
        depth[k] = FAR_PLANE
        continue
      }
      const ay = Math.abs(oy + t * dy)
      // 0 road, 1 line, 2 centre line, 3 sidewalk, 4 terrain
      let cls = 4
      if (ay < half) {
        cls = 0
        if (ay < LINE_HALF) cls = 2
        else if (ay > half - 0.3 && ay < half - 0.15) cls = 1
        else {
          const nearest = Math.round(ay / lw)
          if (nearest > 0 && nearest < lanes && Math.abs(ay - nearest * lw) < LINE_HALF) {
            dashIdx.push(k)
            dashX.push(t * dx)
            dashRoad.push(rowT > 0 ? rowColors[0] : shade(palette[0], t))
            dashLine.push(rowT > 0 ? rowColors[1] : shade(palette[1], t))
          }
        }
      } else if (ay < outer) {
        cls = 3
      }
      rgb[k] = rowT > 0 ? rowColors[cls] : shade(palette[cls], t)
      semantic[k] = tags[cls]
      const nd = Math.round(t * DEPTH_SCALE)
      depthEncoded[k] = ((nd >>> 16) | (((nd >>> 8) & 0xff) << 8) | ((nd & 0xff) << 16) | 0xff000000) >>> 0
      depth[k] = t
    }
  }
  return {
    rgb,
    semantic,
    depthEncoded,
    depth,
    dashIndex: Int32Array.from(dashIdx),
    dashRelX: Float32Array.from(dashX),
    dashRoadRgb: Uint32Array.from(dashRoad),
    dashLineRgb: Uint32Array.from(dashLine),
  }
}

const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v)

/** Whether a dash is painted at world x. */
export function dashOn(x: number): boolean {
  const m = x % DASH_PERIOD
  return (m < 0 ? m + DASH_PERIOD : m) < DASH_LENGTH
}
