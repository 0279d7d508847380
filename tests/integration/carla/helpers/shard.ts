/** Shared bits for the CARLA integration tests: a small scenario, a temp dir and a recording task context. */
import { afterAll } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ScenarioInput } from '../../../../operators/carla/scenario.ts'

export function smallScenario(overrides: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    name: 'test-shard',
    map: 'Town10HD_Opt',
    weather: 'WetNoon',
    sensors: [
      { name: 'rgb', blueprint: 'sensor.camera.rgb', attributes: { image_size_x: 320, image_size_y: 240, fov: 90 } },
      { name: 'depth', blueprint: 'sensor.camera.depth', attributes: { image_size_x: 320, image_size_y: 240, fov: 90 } },
    ],
    npcs: { vehicles: 3, pedestrians: 1 },
    frames: 5,
    warmupTicks: 2,
    format: 'raw',
    frameTimeoutMs: 2000,
    ...overrides,
  }
}

const created: string[] = []
// Registered when a test file imports this helper: shards write megabytes, so remove them after the file.
afterAll(async () => {
  await Promise.all(created.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'carla-shard-'))
  created.push(dir)
  return dir
}

export function envRecorder(signal?: AbortSignal) {
  const logs: Array<{ message: string; fields?: Record<string, unknown> }> = []
  const progress: number[] = []
  return {
    logs,
    progress,
    env: {
      signal,
      log: (message: string, fields?: Record<string, unknown>) => logs.push({ message, fields }),
      progress: (done: number) => progress.push(done),
    },
  }
}
