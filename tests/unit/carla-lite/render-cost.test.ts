/**
 * Measures carla-lite's per-frame render cost at 1280×720 (the client's ingest benchmark needs ≥100 RGB frames/s
 * on 2 cores, so the server's share must be a few ms). The camera moves down its lane each frame, as on an ego,
 * so the cached background is reused and the cost is the copy, the dashes and the boxes.
 */
import { describe, expect, it } from 'vitest'
import { CameraRenderer } from '../../../operators/carla/lite/render/camera-renderer.ts'
import { backgroundBuilds } from '../../../operators/carla/lite/render/background-cache.ts'
import type { BoxInstance, OutputKind } from '../../../operators/carla/lite/render/rasterize-box.ts'
import { boxWorldCorners } from '../../../operators/carla/lite/world/geom.ts'
import { findMap } from '../../../operators/carla/lite/world/road-map.ts'
import { defaultWeather } from '../../../operators/carla/lite/wire/carla-structs.ts'

const map = findMap('Town03')!
const weather = { ...defaultWeather(), cloudiness: 40, fogDensity: 10 }
const box = { location: { x: 0, y: 0, z: 0.75 }, extent: { x: 2.4, y: 1.08, z: 0.75 }, rotation: { pitch: 0, yaw: 0, roll: 0 } }

function scene(egoX: number): BoxInstance[] {
  const out: BoxInstance[] = []
  for (let k = 0; k < 12; k++) {
    const pose = {
      location: { x: egoX + 8 + k * 9, y: [1.75, 5.25, -1.75, -5.25][k % 4], z: 0 },
      rotation: { pitch: 0, yaw: k % 4 < 2 ? 0 : 180, roll: 0 },
    }
    out.push({ corners: boxWorldCorners(box, pose), color: [180, 40 + k * 10, 60], tag: 14 })
  }
  return out
}

function measure(kind: OutputKind): { medianMs: number; builds: number } {
  const r = new CameraRenderer({ width: 1280, height: 720, fov: 90, sensorTick: 0 }, kind, 13)
  const before = backgroundBuilds()
  const times: number[] = []
  for (let f = 0; f < 60; f++) {
    const x = f * 0.5 // 10 m/s at 20 Hz
    const pose = { location: { x: x + 1.5, y: 1.75, z: 2.4 }, rotation: { pitch: -5, yaw: 0, roll: 0 } }
    const t0 = performance.now()
    const { release } = r.render(f, f * 0.05, pose, map, weather, scene(x))
    times.push(performance.now() - t0)
    release()
  }
  const steady = times.slice(5).sort((a, b) => a - b)
  return { medianMs: steady[Math.floor(steady.length / 2)], builds: backgroundBuilds() - before }
}

describe('carla-lite render cost at 1280×720', () => {
  for (const kind of ['rgb', 'depth', 'semantic'] as const) {
    it(`renders ${kind} frames from one cached background while the camera moves along the road`, () => {
      const { medianMs, builds } = measure(kind)
      console.log(`carla-lite ${kind} 1280x720, 12 cars: median ${medianMs.toFixed(2)} ms/frame, ${builds} background build(s)`)
      // The timing is printed for people; speed is asserted by benchmarks, not tests.
      expect(builds).toBeLessThanOrEqual(1) // moving along x reuses the background
    })
  }
})
