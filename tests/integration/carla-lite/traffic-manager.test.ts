/**
 * carla-lite's Traffic Manager port (docs/carla-protocol.md §5): plain msgpack-rpc without metadata or envelopes;
 * registered vehicles drive down their lanes on each synchronous_tick, deterministically for a seed.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startCarlaLite, type CarlaLiteHandle } from '../../../operators/carla/lite/index.ts'
import { RawRpc, RawStream } from './helpers/raw-client.ts'

type Def = [number, string, string, unknown[]]
const SYNC = [true, false, [true, 0.05], true, 0.01, 10, 0, true, 3000, 2000, true]

interface Rig {
  server: CarlaLiteHandle
  rpc: RawRpc
  tm: RawRpc
  world: RawStream
  ids: number[]
}
const rigs: Rig[] = []
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.rpc.close()
    r.tm.close()
    r.world.close()
    await r.server.close()
  }
})

/** A server in sync mode with three NPCs: two in one lane (the second 12 m behind), one in the opposite lane. */
async function rig(seed: number): Promise<Rig> {
  const server = await startCarlaLite({ seed })
  const rpc = await RawRpc.connect(server.rpcPort)
  const tm = await RawRpc.connect(server.tmPort)
  const world = await RawStream.connect(server.streamPort, 1)
  await rpc.value('set_episode_settings', SYNC)
  const defs = await rpc.value<Def[]>('get_actor_definitions')
  const car = defs.find((d) => d[1] === 'vehicle.lincoln.mkz_2020')!
  const ids: number[] = []
  for (const [x, y, yaw] of [
    [12, 1.75, 0],
    [0, 1.75, 0],
    [50, -1.75, 180],
  ]) {
    ids.push(
      (
        await rpc.value<[number]>(
          'spawn_actor',
          [car[0], car[1], []],
          [
            [x, y, 0.6],
            [0, yaw, 0],
          ],
        )
      )[0],
    )
  }
  const r = { server, rpc, tm, world, ids }
  rigs.push(r)
  return r
}

async function positions(r: Rig): Promise<Map<number, [number, number, number]>> {
  const f = await r.rpc.value<number>('tick_cue')
  const msg = await r.world.frame(f)
  const out = new Map<number, [number, number, number]>()
  for (let o = 84; o < msg.length; o += 119) out.set(msg.readUInt32LE(o), [msg.readFloatLE(o + 5), msg.readFloatLE(o + 9), msg.readFloatLE(o + 21)])
  return out
}

async function drive(r: Rig, ticks: number): Promise<Map<number, [number, number, number]>> {
  let pos = await positions(r)
  for (let i = 0; i < ticks; i++) {
    expect(await r.tm.call('synchronous_tick', [])).toEqual([null, true])
    pos = await positions(r)
  }
  return pos
}

describe('carla-lite traffic manager', () => {
  it('speaks plain msgpack-rpc: no metadata argument, nil for void, rpclib errors', async () => {
    const r = await rig(1)
    expect(await r.tm.call('health_check_remote_TM', [])).toEqual([null, null])
    expect(await r.tm.call('set_synchronous_mode', [true])).toEqual([null, null])
    const [err] = await r.tm.call('set_synchronous_mode', [[false], true])
    expect(err).toMatch(/Expected: 1, got: 2/)
    expect((await r.tm.call('no_such_tm_call', []))[0]).toBe("rpclib: server could not find function 'no_such_tm_call' with argument count 0.")
  })

  it('drives registered vehicles along their lanes on synchronous_tick, keeping their distance', async () => {
    const r = await rig(5)
    const actors = await r.rpc.value<unknown[]>('get_actors_by_id', r.ids)
    expect(await r.tm.call('register_vehicle', [actors])).toEqual([null, null])
    await r.tm.call('set_synchronous_mode', [true])
    await r.tm.call('set_random_device_seed', [42])
    await r.tm.call('set_global_distance_to_leading_vehicle', [3])
    const start = await positions(r)
    // Sync TM mode: world ticks alone do not move anyone.
    const still = await positions(r)
    expect(still.get(r.ids[0])).toEqual(start.get(r.ids[0]))
    const end = await drive(r, 40) // 2 s at 0.05 s
    const [lead, follower, oncoming] = r.ids.map((id) => [start.get(id)!, end.get(id)!])
    expect(lead[1][0] - lead[0][0]).toBeGreaterThan(12) // ~9.7 m/s ± 10% for 2 s
    expect(lead[1][0] - lead[0][0]).toBeLessThan(25)
    expect(lead[1][1]).toBeCloseTo(1.75, 3) // stays in its lane
    expect(oncoming[1][0]).toBeLessThan(oncoming[0][0] - 12) // the other lane drives −x
    expect(oncoming[1][2]).toBe(180)
    const gap = lead[1][0] - follower[1][0] - 2 * 2.45
    expect(gap).toBeGreaterThan(2.5)
    // Unregistered vehicles stop.
    await r.tm.call('unregister_vehicle', [actors])
    const a = await drive(r, 2)
    const b = await drive(r, 2)
    expect(b.get(r.ids[0])).toEqual(a.get(r.ids[0]))
  })

  it('is deterministic for a seed', async () => {
    const run = async (tmSeed: number): Promise<number[]> => {
      const r = await rig(9)
      await r.tm.call('set_random_device_seed', [tmSeed])
      await r.tm.call('register_vehicle', [await r.rpc.value<unknown[]>('get_actors_by_id', r.ids)])
      await r.tm.call('set_synchronous_mode', [true])
      const end = await drive(r, 10)
      return r.ids.map((id) => end.get(id)![0])
    }
    const [a, b, c] = [await run(7), await run(7), await run(8)]
    expect(a).toEqual(b)
    expect(c).not.toEqual(a)
  })

  it('drives on every world tick when the TM is asynchronous', async () => {
    const r = await rig(2)
    await r.tm.call('register_vehicle', [await r.rpc.value<unknown[]>('get_actors_by_id', [r.ids[0]])])
    const a = await positions(r)
    const b = await positions(r)
    expect(b.get(r.ids[0])![0]).toBeGreaterThan(a.get(r.ids[0])![0])
    expect(await r.tm.call('shut_down', [])).toEqual([null, null])
    const c = await positions(r)
    const d = await positions(r)
    expect(d.get(r.ids[0])).toEqual(c.get(r.ids[0]))
  })
})
