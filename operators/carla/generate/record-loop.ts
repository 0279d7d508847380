/**
 * The tick loop (docs/carla-protocol.md §6 steps 9–10): tick_cue → frame F, wait for world state F and frame F from
 * every sensor, label, hand the images to the writer. Warm-up ticks run the same way without recording.
 */
import type { CarlaClient } from '../client/carla-client.ts'
import type { TrafficManagerClient } from '../client/traffic-manager-client.ts'
import type { Actor } from '../client/codecs/actor.ts'
import { parseImage, type ImageData } from '../client/stream-sensor-data.ts'
import { parseWorldState, type WorldState } from '../client/stream-world-state.ts'
import { labelFrame } from '../labels/label-frame.ts'
import type { Scenario, SensorSpec } from '../scenario.ts'
import { abortable, throwIfAborted } from './abort.ts'
import type { FrameCollector } from './frame-collector.ts'
import { sensorKind, type ShardOutput } from './shard-output.ts'

export const WORLD_STREAM = '__world__'

export interface LoopContext {
  client: CarlaClient
  tm: TrafficManagerClient | null
  collector: FrameCollector
  output: ShardOutput
  waitForWriter(): Promise<void>
  scenario: Scenario
  sensors: Array<{ spec: SensorSpec; actor: Actor }>
  egoId: number
  signal?: AbortSignal
  progress?(done: number, total: number | null, unit: string): void
}

/** One world step: the frame number and the world state for it. */
async function step(c: LoopContext, names: readonly string[]): Promise<{ frame: number; world: WorldState; msgs: Map<string, Buffer> }> {
  const frame = await abortable(c.client.tickCue(), c.signal)
  const msgs = await c.collector.takeAll(names, frame, c.scenario.frameTimeoutMs, c.signal)
  // The TM computes its next controls after the world has stepped, as LibCarla's World::Tick does.
  if (c.tm) await abortable(c.tm.synchronousTick(), c.signal)
  return { frame, world: parseWorldState(msgs.get(WORLD_STREAM)!), msgs }
}

export async function warmUp(c: LoopContext): Promise<void> {
  for (let i = 0; i < c.scenario.warmupTicks; i++) await step(c, [WORLD_STREAM])
}

/** Picks the labelled camera and a co-mounted depth or semantic camera for occlusion, if there is one. */
function labelSetup(c: LoopContext): { camera: SensorSpec | null; occluder: SensorSpec | null } {
  const cams = c.scenario.sensors
  const camera =
    (c.scenario.labelCamera ? cams.find((s) => s.name === c.scenario.labelCamera) : cams.find((s) => sensorKind(s.blueprint) === 'rgb')) ?? null
  if (!camera) return { camera: null, occluder: null }
  const same = (s: SensorSpec): boolean =>
    JSON.stringify(s.transform) === JSON.stringify(camera.transform) &&
    ['image_size_x', 'image_size_y', 'fov'].every((k) => String(s.attributes[k] ?? '') === String(camera.attributes[k] ?? ''))
  const occluder =
    cams.find((s) => sensorKind(s.blueprint) === 'semantic' && same(s)) ?? cams.find((s) => sensorKind(s.blueprint) === 'depth' && same(s)) ?? null
  return { camera, occluder }
}

export async function record(c: LoopContext): Promise<void> {
  const names = [WORLD_STREAM, ...c.sensors.map((s) => s.spec.name)]
  const { camera, occluder } = labelSetup(c)
  const actors = new Map<number, Actor | null>()
  const total = c.scenario.frames
  for (let i = 0; i < total; i++) {
    throwIfAborted(c.signal)
    await abortable(c.waitForWriter(), c.signal)
    const { frame, world, msgs } = await step(c, names)
    const images = new Map<string, ImageData>()
    for (const s of c.sensors) if (sensorKind(s.spec.blueprint) !== 'other') images.set(s.spec.name, parseImage(msgs.get(s.spec.name)!))
    if (camera) {
      const cam = images.get(camera.name)!
      const unknown = world.actors.filter((a) => a.id !== c.egoId && !actors.has(a.id)).map((a) => a.id)
      if (unknown.length) {
        // Boxes come from the Actor structs, fetched once per new id (static actors included, then skipped).
        for (const id of unknown) actors.set(id, null)
        for (const a of await abortable(c.client.getActorsById(unknown), c.signal)) actors.set(a.id, a)
      }
      const objects = world.actors.flatMap((s) => {
        const actor = s.id === c.egoId ? null : actors.get(s.id)
        return actor ? [{ actor, transform: s.transform }] : []
      })
      const occ = occluder ? images.get(occluder.name)! : null
      const kind = occluder ? sensorKind(occluder.blueprint) : null
      const labels = labelFrame(
        objects,
        { width: cam.width, height: cam.height, fov: cam.fov, transform: cam.header.transform },
        {
          width: cam.width,
          height: cam.height,
          depthPixels: kind === 'depth' ? occ!.pixels : undefined,
          semanticPixels: kind === 'semantic' ? occ!.pixels : undefined,
        },
      )
      c.output.addLabels(frame, world.header.timestamp, { sensor: camera.name, width: cam.width, height: cam.height }, labels)
    }
    // Labels are done with the pixels; now they can move to the writer threads.
    for (const s of c.sensors) {
      const img = images.get(s.spec.name)
      if (img) c.output.addImage(s.spec.name, sensorKind(s.spec.blueprint), frame, img)
      else c.output.addRaw(s.spec.name, frame, msgs.get(s.spec.name)!.subarray(48))
    }
    c.progress?.(i + 1, total, 'frames')
  }
}
