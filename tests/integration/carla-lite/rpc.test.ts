/**
 * carla-lite's RPC port against the wire reference (docs/carla-protocol.md §1–3 and its golden facts), using a plain
 * @msgpack/msgpack client written in the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encode } from '@msgpack/msgpack'
import { startCarlaLite, type CarlaLiteHandle } from '../../../operators/carla/lite/index.ts'
import { RawRpc, hex, rawExchange, rawRequest } from './helpers/raw-client.ts'

type Def = [number, string, string, [string, number, string, string[], boolean, boolean][]]

let server: CarlaLiteHandle
let rpc: RawRpc
let defs: Def[]
const uid = (id: string): number => defs.find((d) => d[1] === id)![0]
const desc = (id: string, attrs: [string, number, string][] = []): unknown => [uid(id), id, attrs]
const at = (x: number, y: number, yaw = 0): unknown => [
  [x, y, 0.6],
  [0, yaw, 0],
]

beforeAll(async () => {
  server = await startCarlaLite({ port: 0, seed: 7 })
  rpc = await RawRpc.connect(server.rpcPort)
  defs = await rpc.value<Def[]>('get_actor_definitions')
})
afterAll(async () => {
  rpc.close()
  await server.close()
})

describe('carla-lite rpc: golden bytes', () => {
  it('answers the version request with the reference reply, byte for byte', async () => {
    const reply = await rawExchange(server.rpcPort, hex('94 00 01 a7 76 65 72 73 69 6f 6e 91 91 c2'), 14)
    expect(reply.toString('hex')).toBe(hex('94 01 01 c0 91 92 01 a6 30 2e 39 2e 31 35').toString('hex'))
  })

  it('round-trips the golden synchronous EpisodeSettings and returns them with the same bytes', async () => {
    const settings = '9b c3 c2 92 c3 cb 3f a9 99 99 99 99 99 9a c3 cb 3f 84 7a e1 47 ae 14 7b 0a ca 00 00 00 00 c3 ca 45 3b 80 00 ca 44 fa 00 00 c3'
    // [0, 2, "set_episode_settings", [[false], <settings>]]
    const req = Buffer.concat([hex('94 00 02'), Buffer.from(encode('set_episode_settings')), hex('92 91 c2'), hex(settings)])
    const setReply = await rawExchange(server.rpcPort, req, 8)
    expect(setReply.subarray(0, 8).toString('hex')).toMatch(/^940102c0919201/) // [1, 2, nil, [[1, frame]]]
    const getReply = await rawExchange(
      server.rpcPort,
      Buffer.concat([hex('94 00 03'), Buffer.from(encode('get_episode_settings')), hex('91 91 c2')]),
      4 + 3 + 41,
    )
    // [1, 3, nil, [[1, <settings>]]]
    expect(getReply.toString('hex')).toBe(hex(`94 01 03 c0 91 92 01 ${settings}`).toString('hex'))
    await rpc.value('set_episode_settings', [false, false, [false], true, 0.01, 10, 0, true, 3000, 2000, true])
  })

  it('answers the golden destroy-and-tick batch with a CommandResponse error and ticks once', async () => {
    const sync = [true, false, [true, 0.05], true, 0.01, 10, 0, true, 3000, 2000, true]
    const before = await rpc.value<number>('set_episode_settings', sync)
    const req = hex('94 00 0b ab 61 70 70 6c 79 5f 62 61 74 63 68 93 91 c2 91 91 92 01 91 2a c3')
    const reply = await rawRequest(server.rpcPort, req)
    // [1, 11, nil, [CommandResponse]] — apply_batch's result is a bare vector, not a Response envelope.
    expect(reply).toEqual([1, 11, null, [[[0, [expect.stringContaining('not found')]]]]])
    expect(await rpc.value<number>('set_episode_settings', sync)).toBe(before + 1)
    await rpc.value('set_episode_settings', [false, false, [false], true, 0.01, 10, 0, true, 3000, 2000, true])
  })

  it('sends Response<void> success as [[false]] (91 91 c2)', async () => {
    const weather = await rpc.value<number[]>('get_weather_parameters')
    expect(weather).toHaveLength(14)
    const bytes = encode([0, 9, 'set_weather_parameters', [[false], weather]])
    const reply = await rawExchange(server.rpcPort, Buffer.from(bytes), 7)
    expect(reply.toString('hex')).toBe('940109c09191c2')
  })
})

describe('carla-lite rpc: rpclib behaviour', () => {
  it('names an unknown method and its argument count like rpclib', async () => {
    const [err, result] = await rpc.call('get_actor_snapshot', [[false], 1])
    expect(err).toBe("rpclib: server could not find function 'get_actor_snapshot' with argument count 2.")
    expect(result).toBeNull()
  })

  it('rejects a call without the metadata argument with an arity error', async () => {
    const [err] = await rpc.call('version', [])
    expect(err).toMatch(/^rpclib: function 'version' \(called with 0 arg\(s\)\) threw an exception.*Expected: 1, got: 0/)
  })

  it('survives garbage arguments and keeps serving', async () => {
    const [err] = await rpc.call('spawn_actor', [[false], 'not a description', 42])
    expect(String(err)).toMatch(/^rpclib: function 'spawn_actor'.*threw an exception/)
    const [err2] = await rpc.call('destroy_actor', [[false], { a: 1 }])
    expect(err2).not.toBeNull()
    expect(await rpc.value('version')).toBe('0.9.15')
  })

  it('replies to a [true] (fire-and-forget) call at once with the default result, then applies it', async () => {
    const weather = await rpc.value<number[]>('get_weather_parameters')
    const night = [...weather]
    night[5] = -40 // sun_altitude_angle
    const [err, result] = await rpc.call('set_weather_parameters', [[true], night])
    expect(err).toBeNull()
    expect(result).toEqual([[false]])
    const after = await rpc.value<number[]>('get_weather_parameters')
    expect(after[5]).toBe(-40)
    // A default Response<T> is the error alternative.
    expect((await rpc.call('get_spectator', [[true]]))[1]).toEqual([[0, ['unknown error']]])
  })
})

describe('carla-lite rpc: world', () => {
  it('lists CARLA map paths plus a carla-lite marker, and loads a new episode with a new id', async () => {
    const maps = await rpc.value<string[]>('get_available_maps')
    for (const t of ['Town01', 'Town02', 'Town03', 'Town10HD_Opt']) expect(maps).toContain(`/Game/Carla/Maps/${t}`)
    expect(maps.some((m) => m.includes('carla-lite'))).toBe(true)
    const [before] = await rpc.value<[number, unknown]>('get_episode_info')
    expect(await rpc.carla('load_new_episode', '/Game/Carla/Maps/Town01', true, 0xffff)).toEqual([[false]])
    const [after, token] = await rpc.value<[number, [Uint8Array]]>('get_episode_info')
    expect(after).not.toBe(before)
    expect(Buffer.from(token[0]).readUInt32LE(0)).toBe(1) // the world observer is stream 1
    const [name, spawns] = await rpc.value<[string, unknown[]]>('get_map_info')
    expect(name).toBe('Carla/Maps/Town01')
    expect(spawns.length).toBeGreaterThan(20)
    expect(await rpc.value<string>('get_map_data')).toContain('carla-lite, a procedural stand-in for CARLA 0.9.15')
    const [bad] = (await rpc.carla('load_new_episode', 'Atlantis', true, 0xffff)) as [[boolean, [string]]]
    expect(bad[0]).toBe(true)
    expect(bad[1][0]).toMatch(/not found/)
  })

  it('publishes 1-based blueprint uids with the camera and vehicle attributes clients set', () => {
    expect(defs.map((d) => d[0])).toEqual(defs.map((_, i) => i + 1))
    const ids = defs.map((d) => d[1])
    for (const id of ['sensor.camera.rgb', 'sensor.camera.depth', 'sensor.camera.semantic_segmentation']) expect(ids).toContain(id)
    expect(ids.some((i) => i.startsWith('vehicle.'))).toBe(true)
    expect(ids.some((i) => i.startsWith('walker.pedestrian.'))).toBe(true)
    const cam = defs.find((d) => d[1] === 'sensor.camera.rgb')!
    const attrs = new Map(cam[3].map((a) => [a[0], a]))
    expect(attrs.get('image_size_x')?.[1]).toBe(2) // Int
    expect(attrs.get('fov')?.[1]).toBe(3) // Float
    expect(attrs.has('sensor_tick') && attrs.has('role_name')).toBe(true)
    const car = defs.find((d) => d[1].startsWith('vehicle.'))!
    expect(car[3].find((a) => a[0] === 'color')?.[1]).toBe(5) // RGBColor
  })

  it('spawns, describes and destroys actors', async () => {
    const car = await rpc.value<[number, number, [number, string, unknown[]], unknown, Uint8Array, Uint8Array]>(
      'spawn_actor',
      desc('vehicle.audi.a2', [['role_name', 4, 'hero']]),
      at(30, 1.75),
    )
    expect(car[1]).toBe(0)
    expect(car[2][1]).toBe('vehicle.audi.a2')
    expect(car[2][2]).toContainEqual(['role_name', 4, 'hero'])
    expect([...car[4]]).toEqual([14])
    expect(car[5]).toHaveLength(0)
    const cam = await rpc.value<[number, number, unknown, unknown, Uint8Array, Uint8Array]>(
      'spawn_actor_with_parent',
      desc('sensor.camera.depth'),
      at(1, 0),
      car[0],
      0,
    )
    expect(cam[1]).toBe(car[0])
    expect(cam[5]).toHaveLength(24)
    const found = await rpc.value<unknown[][]>('get_actors_by_id', [car[0], 999999, cam[0]])
    expect(found.map((a) => a[0])).toEqual([car[0], cam[0]])
    expect(await rpc.value('destroy_actor', cam[0])).toBe(true)
    expect(await rpc.value('destroy_actor', car[0])).toBe(true)
    const again = (await rpc.carla('destroy_actor', car[0])) as [[number, [string]]]
    expect(again[0][0]).toBe(0)
    expect(await rpc.value('get_actors_by_id', [car[0]])).toEqual([])
  })

  it('rejects uid 0, an out-of-range uid and a mismatched id with "Invalid ActorDescription"', async () => {
    for (const d of [
      [0, 'vehicle.audi.a2', []],
      [defs.length + 1, 'vehicle.audi.a2', []],
      [uid('vehicle.audi.a2'), 'vehicle.tesla.model3', []],
    ]) {
      expect(await rpc.carla('spawn_actor', d, at(0, 0))).toEqual([[0, ['Invalid ActorDescription']]])
    }
  })

  it('refuses to spawn a vehicle on top of another', async () => {
    const a = await rpc.value<[number]>('spawn_actor', desc('vehicle.tesla.model3'), at(-60, 1.75))
    const clash = (await rpc.carla('spawn_actor', desc('vehicle.audi.a2'), at(-59, 1.75))) as [[number, [string]]]
    expect(clash[0]).toEqual([0, ['Spawn failed because of collision at spawn position']])
    // The next lane over is free.
    const b = await rpc.value<[number]>('spawn_actor', desc('vehicle.audi.a2'), at(-60, 5.25))
    await rpc.carla('apply_batch', [[[1, [a[0]]]], [[1, [b[0]]]]], false)
  })

  it('runs SpawnActor batches with do_after and reports one CommandResponse per command', async () => {
    const spawn = (x: number): unknown => [[0, [desc('vehicle.nissan.micra'), at(x, -1.75, 180), [false], [[[16, [0, true]]]]]]]
    const out = (await rpc.carla('apply_batch', [spawn(100), spawn(100), spawn(130)], false)) as [[number, unknown]][]
    expect(out).toHaveLength(3)
    expect(out[0][0][0]).toBe(1)
    expect(out[1][0][0]).toBe(0) // collides with the first
    expect(out[2][0][0]).toBe(1)
    const ids = [out[0][0][1], out[2][0][1]] as number[]
    const destroyed = (await rpc.carla(
      'apply_batch',
      ids.map((id) => [[1, [id]]]),
      false,
    )) as unknown[]
    expect(destroyed).toEqual(ids.map((id) => [[1, id]]))
  })

  it('keeps a Traffic Manager registry and pre-registers its own TM', async () => {
    expect(await rpc.value('is_traffic_manager_running', server.tmPort)).toBe(true)
    expect(await rpc.value('get_traffic_manager_running', server.tmPort)).toEqual(['127.0.0.1', server.tmPort])
    expect(await rpc.value('is_traffic_manager_running', 1)).toBe(false)
    expect(await rpc.value('add_traffic_manager_running', ['127.0.0.1', 8123])).toBe(true)
    expect(await rpc.value('add_traffic_manager_running', ['127.0.0.1', 8123])).toBe(false)
    expect(await rpc.value('destroy_traffic_manager', 8123)).toBe(true)
    expect(await rpc.value('is_traffic_manager_running', 8123)).toBe(false)
  })
})
