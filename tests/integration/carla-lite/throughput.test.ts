/**
 * End-to-end rate of 1280×720 RGB frames over the wire in synchronous mode (tick_cue, then wait for the frame),
 * with a few moving NPCs. Server and test client share one process here, so this is a floor on what a separate
 * client process sees (the 100 frames/s ingest target is measured by bench/carla-ingest.ts with the server in its
 * own process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCarlaLite, type CarlaLiteHandle } from '../../../operators/carla/lite/index.ts'
import { RawRpc, RawStream } from './helpers/raw-client.ts'

type Def = [number, string, string, unknown[]]
let server: CarlaLiteHandle
let rpc: RawRpc

beforeAll(async () => {
  server = await startCarlaLite({ seed: 11 })
  rpc = await RawRpc.connect(server.rpcPort)
})
afterAll(async () => {
  rpc.close()
  await server.close()
})

describe('carla-lite throughput', () => {
  it('streams 200 1280×720 RGB frames in synchronous mode, one per tick, none dropped', async () => {
    await rpc.value('set_episode_settings', [true, false, [true, 0.05], true, 0.01, 10, 0, true, 3000, 2000, true])
    const defs = await rpc.value<Def[]>('get_actor_definitions')
    const uid = (id: string): number => defs.find((d) => d[1] === id)![0]
    const ego = await rpc.value<[number]>(
      'spawn_actor',
      [uid('vehicle.tesla.model3'), 'vehicle.tesla.model3', []],
      [
        [0, 1.75, 0.6],
        [0, 0, 0],
      ],
    )
    const npcs: number[] = []
    for (let k = 1; k <= 8; k++) {
      const y = [1.75, 5.25, -1.75, -5.25][k % 4]
      npcs.push(
        (
          await rpc.value<[number]>(
            'spawn_actor',
            [uid('vehicle.audi.a2'), 'vehicle.audi.a2', []],
            [
              [k * 10, y, 0.6],
              [0, y > 0 ? 0 : 180, 0],
            ],
          )
        )[0],
      )
    }
    const tm = await RawRpc.connect(server.tmPort)
    await tm.call('register_vehicle', [await rpc.value<unknown[]>('get_actors_by_id', npcs)])
    await tm.call('set_synchronous_mode', [true])
    const cam = await rpc.value<[number, number, unknown, unknown, Uint8Array, Uint8Array]>(
      'spawn_actor_with_parent',
      [
        uid('sensor.camera.rgb'),
        'sensor.camera.rgb',
        [
          ['image_size_x', 2, '1280'],
          ['image_size_y', 2, '720'],
        ],
      ],
      [
        [1.5, 0, 2.4],
        [0, 0, 0],
      ],
      ego[0],
      0,
    )
    const s = await RawStream.connect(server.streamPort, Buffer.from(cam[5]).readUInt32LE(0))
    const run = async (n: number): Promise<number> => {
      const t0 = performance.now()
      for (let i = 0; i < n; i++) {
        const f = await rpc.value<number>('tick_cue')
        await s.frame(f)
        s.messages.length = 0
        await tm.call('synchronous_tick', [])
      }
      return performance.now() - t0
    }
    await run(10)
    const before = server.renderStats()
    const ms = await run(200)
    const after = server.renderStats()
    const fps = 200 / (ms / 1000)
    const renderMs = (after.renderMs - before.renderMs) / (after.images - before.images)
    console.log(`carla-lite 1280x720 RGB over TCP (sync, 8 moving NPCs): ${fps.toFixed(0)} frames/s, render ${renderMs.toFixed(2)} ms/frame`)
    // Speed is the carla-ingest benchmark's job; here: every tick rendered and delivered, none dropped.
    expect(after.images - before.images).toBe(200)
    s.close()
    tm.close()
  })
})
