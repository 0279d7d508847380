/**
 * Every CarlaClient and TrafficManagerClient request, byte for byte, and its hand-written reply decoded.
 * Expected bytes follow docs/carla-protocol.md §1–3: `[0, msgid, method, [[false], …args]]`, f32 as 0xca, f64 as 0xcb,
 * bytes as bin; TM calls have no metadata.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { CarlaClient } from '../../../operators/carla/client/carla-client.ts'
import { TrafficManagerClient } from '../../../operators/carla/client/traffic-manager-client.ts'
import { defaultEpisodeSettings } from '../../../operators/carla/client/codecs/episode.ts'
import { WEATHER_PRESETS } from '../../../operators/carla/client/codecs/weather.ts'
import type { Actor } from '../../../operators/carla/client/codecs/actor.ts'
import { hex, toHex } from './hex.ts'
import { wirePeer, type WirePeer } from './wire-server.ts'

/** fixstr header + UTF-8 bytes, as hex. */
const s = (text: string): string => toHex(Buffer.concat([Buffer.from([0xa0 | text.length]), Buffer.from(text)]))
const ZERO = 'ca 00 00 00 00'
const TF0 = `92 93 ${ZERO} ${ZERO} ${ZERO} 93 ${ZERO} ${ZERO} ${ZERO}`
const SETTINGS_SYNC_005 =
  '9b c3 c2 92 c3 cb 3f a9 99 99 99 99 99 9a c3 cb 3f 84 7a e1 47 ae 14 7b 0a ca 00 00 00 00 c3 ca 45 3b 80 00 ca 44 fa 00 00 c3'
const TOKEN5 = '05 00 00 00 d1 07 01 00' + ' 00'.repeat(16)
// Actor 1000: description [1, "v.a", []], bbox zero, tags bin [14], token bin [].
const ACTOR = `96 cd 03 e8 00 93 01 ${s('v.a')} 90 93 93 ${ZERO} ${ZERO} ${ZERO} 93 ${ZERO} ${ZERO} ${ZERO} 93 ${ZERO} ${ZERO} ${ZERO} c4 01 0e c4 00`

let peer: WirePeer | null = null
afterEach(async () => {
  await peer?.close()
  peer = null
})

/** A peer that answers msgid 1 with `[1, 1, nil, <resultHex>]`. */
async function carla(resultHex: string): Promise<CarlaClient> {
  peer = await wirePeer((_c, sock) => sock.write(hex(`94 01 01 c0 ${resultHex}`)))
  return CarlaClient.connect({ host: '127.0.0.1', port: peer.port })
}
const request = (method: string, argsHex: string[]): string =>
  `94 00 01 ${s(method)} ${toHex(Buffer.from([0x90 | (argsHex.length + 1)]))} 91 c2${argsHex.map((a) => ' ' + a).join('')}`

const cases: Array<{ name: string; call: (c: CarlaClient) => Promise<unknown>; sent: string; reply: string; value: unknown }> = [
  {
    name: 'get_available_maps',
    call: (c) => c.getAvailableMaps(),
    sent: request('get_available_maps', []),
    reply: `91 92 01 91 ${s('/Game/Carla/Maps/Town01')}`,
    value: ['/Game/Carla/Maps/Town01'],
  },
  {
    name: 'get_episode_info',
    call: async (c) => {
      const info = await c.getEpisodeInfo()
      return { id: info.id, token: toHex(info.token) }
    },
    sent: request('get_episode_info', []),
    reply: `91 92 01 92 07 91 c4 18 ${TOKEN5}`,
    value: { id: 7n, token: TOKEN5 },
  },
  {
    name: 'get_map_info',
    call: (c) => c.getMapInfo(),
    sent: request('get_map_info', []),
    reply: `91 92 01 92 ${s('Town01')} 91 ${TF0}`,
    value: { name: 'Town01', recommendedSpawnPoints: [{ location: { x: 0, y: 0, z: 0 }, rotation: { pitch: 0, yaw: 0, roll: 0 } }] },
  },
  {
    name: 'get_episode_settings',
    call: (c) => c.getEpisodeSettings(),
    sent: request('get_episode_settings', []),
    reply: `91 92 01 ${SETTINGS_SYNC_005}`,
    value: { ...defaultEpisodeSettings(), synchronousMode: true, fixedDeltaSeconds: 0.05 },
  },
  {
    name: 'set_episode_settings',
    call: (c) => c.setEpisodeSettings({ ...defaultEpisodeSettings(), synchronousMode: true, fixedDeltaSeconds: 0.05 }),
    sent: request('set_episode_settings', [SETTINGS_SYNC_005]),
    reply: '91 92 01 cd 04 d2',
    value: 1234,
  },
  {
    name: 'get_actor_definitions',
    call: (c) => c.getActorDefinitions(),
    sent: request('get_actor_definitions', []),
    reply: `91 92 01 91 94 01 ${s('v.a')} ${s('car')} 91 96 ${s('color')} 05 ${s('1,2,3')} 90 c3 c2`,
    value: [
      {
        uid: 1,
        id: 'v.a',
        tags: 'car',
        attributes: [{ id: 'color', type: 5, value: '1,2,3', recommendedValues: [], isModifiable: true, restrictToRecommended: false }],
      },
    ],
  },
  {
    name: 'get_weather_parameters',
    call: async (c) => (await c.getWeatherParameters()).cloudiness,
    sent: request('get_weather_parameters', []),
    reply: `91 92 01 9e ca 3f 80 00 00${` ${ZERO}`.repeat(13)}`,
    value: 1,
  },
  {
    name: 'set_weather_parameters',
    call: (c) =>
      c.setWeatherParameters({
        ...WEATHER_PRESETS.ClearNoon,
        cloudiness: 1,
        sun_altitude_angle: 0,
        wind_intensity: 0,
        scattering_intensity: 0,
        mie_scattering_scale: 0,
        rayleigh_scattering_scale: 0,
      }),
    sent: request('set_weather_parameters', [`9e ca 3f 80 00 00${` ${ZERO}`.repeat(13)}`]),
    reply: '91 91 c2',
    value: undefined,
  },
  {
    name: 'spawn_actor',
    call: async (c) =>
      (
        await c.spawnActor(
          { uid: 1, id: 'v.a', attributes: [{ id: 'color', type: 5, value: '1,2,3' }] },
          { location: { x: 0, y: 0, z: 0 }, rotation: { pitch: 0, yaw: 0, roll: 0 } },
        )
      ).id,
    sent: request('spawn_actor', [`93 01 ${s('v.a')} 91 93 ${s('color')} 05 ${s('1,2,3')}`, TF0]),
    reply: `91 92 01 ${ACTOR}`,
    value: 1000,
  },
  { name: 'destroy_actor', call: (c) => c.destroyActor(42), sent: request('destroy_actor', ['2a']), reply: '91 92 01 c3', value: true },
  {
    name: 'get_sensor_token',
    call: async (c) => toHex(await c.getSensorToken(5)),
    sent: request('get_sensor_token', ['05']),
    reply: `91 92 01 91 c4 18 ${TOKEN5}`,
    value: TOKEN5,
  },
  { name: 'tick_cue', call: (c) => c.tickCue(), sent: request('tick_cue', []), reply: '91 92 01 cd 04 d2', value: 1234 },
  {
    name: 'get_actors_by_id',
    call: async (c) => (await c.getActorsById([1000, 1001])).map((a) => [a.id, [...a.semanticTags]]),
    sent: request('get_actors_by_id', ['92 cd 03 e8 cd 03 e9']),
    reply: `91 92 01 91 ${ACTOR}`,
    value: [[1000, [14]]],
  },
  {
    name: 'apply_batch SpawnActor with parent and SetAutopilot after',
    call: (c) =>
      c.applyBatch([
        {
          type: 'SpawnActor',
          description: { uid: 1, id: 'v.a', attributes: [] },
          transform: { location: { x: 0, y: 0, z: 0 }, rotation: { pitch: 0, yaw: 0, roll: 0 } },
          parent: 7,
          doAfter: [{ type: 'SetAutopilot', actor: 0, enabled: true }],
        },
      ]),
    sent: request('apply_batch', [`91 91 92 00 94 93 01 ${s('v.a')} 90 ${TF0} 92 c3 07 91 91 92 10 92 00 c3`, 'c2']),
    reply: '91 91 92 00 91 a4 6e 6f 70 65',
    value: [{ ok: false, error: 'nope' }],
  },
]

describe('CarlaClient requests and replies, byte for byte', () => {
  for (const tc of cases) {
    it(tc.name, async () => {
      const client = await carla(tc.reply)
      try {
        expect(await tc.call(client)).toEqual(tc.value)
        expect(toHex(peer!.bytes())).toBe(tc.sent)
      } finally {
        client.close()
      }
    })
  }
})

describe('TrafficManagerClient requests (no metadata, plain results)', () => {
  const actor: Actor = {
    id: 1000,
    parentId: 0,
    description: { uid: 1, id: 'v.a', attributes: [] },
    boundingBox: { location: { x: 0, y: 0, z: 0 }, extent: { x: 0, y: 0, z: 0 }, rotation: { pitch: 0, yaw: 0, roll: 0 } },
    semanticTags: new Uint8Array([14]),
    streamToken: new Uint8Array(),
  }
  const tmCases: Array<{ name: string; call: (t: TrafficManagerClient) => Promise<unknown>; sent: string }> = [
    { name: 'register_vehicle', call: (t) => t.registerVehicles([actor]), sent: `94 00 01 ${s('register_vehicle')} 91 91 ${ACTOR}` },
    { name: 'unregister_vehicle', call: (t) => t.unregisterVehicles([actor]), sent: `94 00 01 ${s('unregister_vehicle')} 91 91 ${ACTOR}` },
    { name: 'set_synchronous_mode', call: (t) => t.setSynchronousMode(true), sent: `94 00 01 ${s('set_synchronous_mode')} 91 c3` },
    { name: 'set_random_device_seed', call: (t) => t.setRandomDeviceSeed(7), sent: `94 00 01 ${s('set_random_device_seed')} 91 07` },
    { name: 'set_hybrid_physics_mode', call: (t) => t.setHybridPhysicsMode(false), sent: `94 00 01 ${s('set_hybrid_physics_mode')} 91 c2` },
    {
      name: 'set_global_percentage_speed_difference',
      call: (t) => t.setGlobalPercentageSpeedDifference(-20),
      sent: `94 00 01 d9 26 ${toHex(Buffer.from('set_global_percentage_speed_difference'))} 91 ca c1 a0 00 00`,
    },
    { name: 'health_check_remote_TM', call: (t) => t.healthCheck(), sent: `94 00 01 ${s('health_check_remote_TM')} 90` },
  ]
  for (const tc of tmCases) {
    it(tc.name, async () => {
      peer = await wirePeer((_c, sock) => sock.write(hex('94 01 01 c0 c0')))
      const tm = await TrafficManagerClient.connect({ host: '127.0.0.1', port: peer.port })
      try {
        await tc.call(tm)
        expect(toHex(peer.bytes())).toBe(tc.sent)
      } finally {
        tm.close()
      }
    })
  }
})
