/**
 * What moves without the Traffic Manager (vehicle controls, walker controls, teleports) and what a new episode
 * resets (actors, sensor streams, the MapChange flag), seen through the world-observer stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCarlaLite, type CarlaLiteHandle } from '../../../operators/carla/lite/index.ts'
import { RawRpc, RawStream } from './helpers/raw-client.ts'

type Def = [number, string, string, unknown[]]
const SYNC = [true, false, [true, 0.05], true, 0.01, 10, 0, true, 3000, 2000, true]

let server: CarlaLiteHandle
let rpc: RawRpc
let world: RawStream
let defs: Def[]
const desc = (id: string): unknown => [defs.find((d) => d[1] === id)![0], id, []]

/** Ticks once; returns the frame's world state as id → [x, y, z, yaw] plus the simulation_state flags. */
async function tick(): Promise<{ pos: Map<number, number[]>; state: number }> {
  const f = await rpc.value<number>('tick_cue')
  const msg = await world.frame(f)
  const pos = new Map<number, number[]>()
  for (let o = 84; o < msg.length; o += 119)
    pos.set(msg.readUInt32LE(o), [msg.readFloatLE(o + 5), msg.readFloatLE(o + 9), msg.readFloatLE(o + 13), msg.readFloatLE(o + 21)])
  return { pos, state: msg.readUInt32LE(48 + 32) }
}

beforeAll(async () => {
  server = await startCarlaLite()
  rpc = await RawRpc.connect(server.rpcPort)
  world = await RawStream.connect(server.streamPort, 1)
  defs = await rpc.value<Def[]>('get_actor_definitions')
  await rpc.value('set_episode_settings', SYNC)
})
afterAll(async () => {
  world.close()
  rpc.close()
  await server.close()
})

describe('carla-lite motion and episodes', () => {
  it('moves a vehicle under ApplyVehicleControl and a walker under ApplyWalkerControl, and teleports on ApplyTransform', async () => {
    const car = (
      await rpc.value<[number]>('spawn_actor', desc('vehicle.toyota.prius'), [
        [0, 1.75, 0.6],
        [0, 0, 0],
      ])
    )[0]
    const walker = (
      await rpc.value<[number]>('spawn_actor', desc('walker.pedestrian.0002'), [
        [5, 8.5, 1],
        [0, 0, 0],
      ])
    )[0]
    const start = (await tick()).pos
    expect(start.get(walker)![2]).toBeCloseTo(0.93, 2) // settled on the ground: z = half height
    const out = await rpc.carla('apply_batch', [[[2, [car, [1, 0, 0, false, false, false, 0]]]], [[4, [walker, [[1, 0, 0], 1.4, false]]]]], false)
    expect(out).toEqual([[[1, car]], [[1, walker]]])
    let pos = start
    for (let i = 0; i < 20; i++) pos = (await tick()).pos
    expect(pos.get(car)![0]).toBeGreaterThan(start.get(car)![0] + 1) // accelerating forward
    expect(pos.get(car)![1]).toBeCloseTo(1.75, 3)
    expect(pos.get(walker)![0]).toBeCloseTo(5 + 1.4 * 0.05 * 20, 1)
    await rpc.carla(
      'apply_batch',
      [
        [
          [
            6,
            [
              car,
              [
                [100, -5.25, 0],
                [0, 180, 0],
              ],
            ],
          ],
        ],
      ],
      false,
    )
    pos = (await tick()).pos
    expect(pos.get(car)![0]).toBeGreaterThan(99) // teleported (and still rolling a little)
    expect(pos.get(car)![3]).toBe(180)
  })

  it('clears actors and sensor streams on load_new_episode and flags MapChange once', async () => {
    const cam = await rpc.value<[number, number, unknown, unknown, Uint8Array, Uint8Array]>(
      'spawn_actor',
      [
        defs.find((d) => d[1] === 'sensor.camera.rgb')![0],
        'sensor.camera.rgb',
        [
          ['image_size_x', 2, '32'],
          ['image_size_y', 2, '24'],
        ],
      ],
      [
        [0, 0, 2],
        [0, 0, 0],
      ],
    )
    const s = await RawStream.connect(server.streamPort, Buffer.from(cam[5]).readUInt32LE(0))
    expect((await tick()).state).toBe(0)
    await rpc.carla('load_new_episode', 'Town02', false, 0xffff)
    const after = await tick()
    expect(after.state & 1).toBe(1)
    expect(after.pos.size).toBe(1) // only the spectator remains
    expect((await tick()).state).toBe(0)
    for (let i = 0; i < 50 && !s.ended; i++) await new Promise((r) => setTimeout(r, 10))
    expect(s.ended).toBe(true)
    // reset_settings=false kept synchronous mode: the frame did not advance on its own.
    const settings = await rpc.value<unknown[]>('get_episode_settings')
    expect(settings[0]).toBe(true)
  })
})
