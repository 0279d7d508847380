/**
 * A small shared LRU of backgrounds. Cameras on one rig (RGB, depth and semantic at the same mount) share an
 * entry; the key leaves out the camera's x because the road is the same all along x (see background.ts).
 */
import type { Weather } from '../wire/carla-structs.ts'
import type { Transform } from '../world/geom.ts'
import type { RoadLayout } from '../world/road-map.ts'
import { buildBackground, type Background } from './background.ts'
import type { CameraModel } from './camera-model.ts'
import { lightingFor, type Lighting } from './lighting.ts'

// Bounded by bytes, not entries: one 1280×720 background is ~15 MB (four planes), a 4K one ~130 MB.
const MAX_BYTES = 160 * 1024 * 1024
const MAX_ENTRIES = 8
const cache = new Map<string, Background>()
let cachedBytes = 0
let builds = 0

const sizeOf = (bg: Background): number => bg.rgb.byteLength * 4 + bg.dashIndex.byteLength * 4

export function weatherKey(w: Weather): string {
  return Object.values(w).join(',')
}

export function backgroundFor(cam: CameraModel, pose: Transform, fov: number, map: RoadLayout, weather: Weather, light: Lighting): Background {
  const r = pose.rotation
  const key = [
    map.path,
    map.lanesPerDirection,
    cam.width,
    cam.height,
    fov,
    pose.location.y,
    pose.location.z,
    r.pitch,
    r.yaw,
    r.roll,
    weatherKey(weather),
  ].join('|')
  let bg = cache.get(key)
  if (bg) {
    cache.delete(key) // re-insert: Map order is the LRU order
  } else {
    bg = buildBackground(cam, map, light)
    builds++
    cachedBytes += sizeOf(bg)
    // Evict least recently used entries; the new one always stays, even if it alone exceeds the budget.
    while (cache.size > 0 && (cachedBytes > MAX_BYTES || cache.size >= MAX_ENTRIES)) {
      const oldest = cache.keys().next().value!
      cachedBytes -= sizeOf(cache.get(oldest)!)
      cache.delete(oldest)
    }
  }
  cache.set(key, bg)
  return bg
}

const lightCache = new Map<string, Lighting>()
export function lightingCached(w: Weather): Lighting {
  const key = weatherKey(w)
  let l = lightCache.get(key)
  if (!l) {
    if (lightCache.size > 16) lightCache.clear()
    lightCache.set(key, (l = lightingFor(w)))
  }
  return l
}

/** For benchmarks and tests: how many backgrounds were built from scratch. */
export const backgroundBuilds = (): number => builds
