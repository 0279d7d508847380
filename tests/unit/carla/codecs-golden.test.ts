/**
 * Golden bytes from docs/carla-protocol.md ("Golden facts" and §3 layouts), written out by hand from the reference,
 * never produced by carla-lite's or our own encoder.
 */
import { describe, expect, it } from 'vitest'
import { decode } from '@msgpack/msgpack'
import { encode, f32, f64 } from '../../../operators/carla/client/msgpack-encode.ts'
import {
  defaultEpisodeSettings,
  decodeEpisodeInfo,
  decodeEpisodeSettings,
  decodeMapInfo,
  decodeToken,
  encodeEpisodeSettings,
} from '../../../operators/carla/client/codecs/episode.ts'
import { decodeTransform, encodeBoundingBox, encodeTransform } from '../../../operators/carla/client/codecs/geom.ts'
import { decodeWeatherParameters, encodeWeatherParameters, WEATHER_PRESETS } from '../../../operators/carla/client/codecs/weather.ts'
import { decodeCommandResponse, encodeCommand, encodeVehicleControl } from '../../../operators/carla/client/codecs/command.ts'
import { decodeActor, decodeActorDefinition, describeBlueprint, encodeActorDescription } from '../../../operators/carla/client/codecs/actor.ts'
import { unwrapResponse, unwrapVoid } from '../../../operators/carla/client/codecs/response.ts'
import { CarlaRpcError } from '../../../operators/carla/client/errors.ts'
import { hex, toHex } from './hex.ts'

const dec = (h: string): unknown => decode(hex(h), { useBigInt64: true })

describe('msgpack encoder wire types', () => {
  it('sends f32 as 0xca and f64 as 0xcb even for integral values, ints in the smallest form, bytes as bin', () => {
    expect(toHex(encode(f32(0)))).toBe('ca 00 00 00 00')
    expect(toHex(encode(f64(1)))).toBe('cb 3f f0 00 00 00 00 00 00')
    expect(toHex(encode([0, 127, 128, 256, 65536, -1, -33]))).toBe('97 00 7f cc 80 cd 01 00 ce 00 01 00 00 ff d0 df')
    expect(toHex(encode(new Uint8Array([1, 2, 3])))).toBe('c4 03 01 02 03')
    expect(toHex(encode(0xffffn))).toBe('cd ff ff')
    expect(toHex(encode(2n ** 63n))).toBe('cf 80 00 00 00 00 00 00 00')
    expect(() => encode(0.5)).toThrow(/wrap floats/)
  })

  it('uses str8 for 32–255 byte strings and array16 past 15 elements', () => {
    expect(toHex(encode('x'.repeat(32))).slice(0, 5)).toBe('d9 20')
    expect(toHex(encode(new Array(16).fill(0))).slice(0, 8)).toBe('dc 00 10')
  })
})

describe('§3 struct layouts', () => {
  it('Golden 5: Transform{loc(1.5,−2,0.5), rot(0,90,0)}', () => {
    const t = { location: { x: 1.5, y: -2, z: 0.5 }, rotation: { pitch: 0, yaw: 90, roll: 0 } }
    const golden = '92 93 ca 3f c0 00 00 ca c0 00 00 00 ca 3f 00 00 00 93 ca 00 00 00 00 ca 42 b4 00 00 ca 00 00 00 00'
    expect(toHex(encode(encodeTransform(t)))).toBe(golden)
    expect(decodeTransform(dec(golden))).toEqual(t)
  })

  it('Golden 4: EpisodeSettings, sync with fixed_delta_seconds=0.05, defaults elsewhere (11 fields)', () => {
    const golden = '9b c3 c2 92 c3 cb 3f a9 99 99 99 99 99 9a c3 cb 3f 84 7a e1 47 ae 14 7b 0a ca 00 00 00 00 c3 ca 45 3b 80 00 ca 44 fa 00 00 c3'
    const s = { ...defaultEpisodeSettings(), synchronousMode: true, fixedDeltaSeconds: 0.05 }
    expect(toHex(encode(encodeEpisodeSettings(s)))).toBe(golden)
    expect(decodeEpisodeSettings(dec(golden))).toEqual(s)
  })

  it('EpisodeSettings with a variable step packs the optional as [false]', () => {
    const bytes = encode(encodeEpisodeSettings(defaultEpisodeSettings()))
    expect(toHex(bytes).startsWith('9b c2 c2 91 c2 c3 cb')).toBe(true)
    expect(decodeEpisodeSettings(decode(bytes)).fixedDeltaSeconds).toBeNull()
  })

  it('BoundingBox is [location, extent, rotation], all float32', () => {
    const b = { location: { x: 0, y: 0, z: 1 }, extent: { x: 2, y: 1, z: 0.5 }, rotation: { pitch: 0, yaw: 0, roll: 0 } }
    expect(toHex(encode(encodeBoundingBox(b)))).toBe(
      '93 93 ca 00 00 00 00 ca 00 00 00 00 ca 3f 80 00 00 93 ca 40 00 00 00 ca 3f 80 00 00 ca 3f 00 00 00 93 ca 00 00 00 00 ca 00 00 00 00 ca 00 00 00 00',
    )
  })

  it('WeatherParameters is 14 float32 in wire order', () => {
    const w = { ...WEATHER_PRESETS.ClearNoon, cloudiness: 1, dust_storm: 2 }
    const bytes = encode(encodeWeatherParameters(w))
    expect(bytes[0]).toBe(0x9e)
    expect(bytes.length).toBe(1 + 14 * 5)
    for (let i = 0; i < 14; i++) expect(bytes[1 + i * 5]).toBe(0xca)
    expect(toHex(bytes.subarray(1, 6))).toBe('ca 3f 80 00 00')
    expect(toHex(bytes.subarray(66, 71))).toBe('ca 40 00 00 00')
    const back = decodeWeatherParameters(decode(bytes))
    expect(back.rayleigh_scattering_scale).toBeCloseTo(0.0331, 6)
  })

  it('VehicleControl is [f32 throttle, f32 steer, f32 brake, bool, bool, bool, int gear]', () => {
    const c = { throttle: 1, steer: -0.5, brake: 0, handBrake: false, reverse: true, manualGearShift: false, gear: 3 }
    expect(toHex(encode(encodeVehicleControl(c)))).toBe('97 ca 3f 80 00 00 ca bf 00 00 00 ca 00 00 00 00 c2 c3 c2 03')
  })

  it('Golden 6: Token for stream 5 on port 2001 is [bin(24)] holding 05 00 00 00 d1 07 01 00 + 16 zeros', () => {
    const wire = '91 c4 18 05 00 00 00 d1 07 01 00' + ' 00'.repeat(16)
    expect(toHex(decodeToken(dec(wire)))).toBe('05 00 00 00 d1 07 01 00' + ' 00'.repeat(16))
  })

  it('EpisodeInfo is [id:uint64, Token]; a 64-bit id is kept exactly', () => {
    const wire = '92 cf ff ff ff ff ff ff ff fe 91 c4 18 01 00 00 00 d1 07 01 00' + ' 00'.repeat(16)
    const info = decodeEpisodeInfo(dec(wire))
    expect(info.id).toBe(2n ** 64n - 2n)
    expect(info.token[0]).toBe(1)
  })

  it('MapInfo is [name, [Transform]]', () => {
    const wire = '92 a6 54 6f 77 6e 30 31 91 92 93 ca 3f c0 00 00 ca c0 00 00 00 ca 3f 00 00 00 93 ca 00 00 00 00 ca 42 b4 00 00 ca 00 00 00 00'
    expect(decodeMapInfo(dec(wire))).toEqual({
      name: 'Town01',
      recommendedSpawnPoints: [{ location: { x: 1.5, y: -2, z: 0.5 }, rotation: { pitch: 0, yaw: 90, roll: 0 } }],
    })
  })

  it('ActorDefinition [uid, id, tags, [ActorAttribute]] and ActorDescription [uid, id, [[id, type, value]]]', () => {
    // [1, "v.a", "car", [["color", 5, "1,2,3", ["1,2,3"], true, false]]]
    const def = decodeActorDefinition(dec('94 01 a3 76 2e 61 a3 63 61 72 91 96 a5 63 6f 6c 6f 72 05 a5 31 2c 32 2c 33 91 a5 31 2c 32 2c 33 c3 c2'))
    expect(def).toEqual({
      uid: 1,
      id: 'v.a',
      tags: 'car',
      attributes: [{ id: 'color', type: 5, value: '1,2,3', recommendedValues: ['1,2,3'], isModifiable: true, restrictToRecommended: false }],
    })
    const desc = describeBlueprint(def, { color: '9,9,9' })
    expect(toHex(encode(encodeActorDescription(desc)))).toBe('93 01 a3 76 2e 61 91 93 a5 63 6f 6c 6f 72 05 a5 39 2c 39 2c 39')
    expect(() => describeBlueprint(def, { colour: 'x' })).toThrow(/no attribute 'colour'/)
  })

  it('Actor is [id, parent, description, bbox, semantic_tags:bin, stream_token:bin]', () => {
    const bbox =
      '93 93 ca 00 00 00 00 ca 00 00 00 00 ca 00 00 00 00 93 ca 40 00 00 00 ca 3f 80 00 00 ca 3f 00 00 00 93 ca 00 00 00 00 ca 00 00 00 00 ca 00 00 00 00'
    const wire = `96 2a 00 93 01 a3 76 2e 61 90 ${bbox} c4 01 0e c4 00`
    const a = decodeActor(dec(wire))
    expect(a).toMatchObject({ id: 42, parentId: 0, description: { uid: 1, id: 'v.a', attributes: [] } })
    expect(a.boundingBox.extent).toEqual({ x: 2, y: 1, z: 0.5 })
    expect([...a.semanticTags]).toEqual([14])
    expect(a.streamToken.length).toBe(0)
  })

  it('Commands are [[index, payload]]: DestroyActor=1, SpawnActor=0 with optional parent and do_after', () => {
    expect(toHex(encode(encodeCommand({ type: 'DestroyActor', actor: 42 })))).toBe('91 92 01 91 2a')
    const spawn = encodeCommand({
      type: 'SpawnActor',
      description: { uid: 1, id: 'v.a', attributes: [] },
      transform: { location: { x: 0, y: 0, z: 0 }, rotation: { pitch: 0, yaw: 0, roll: 0 } },
    })
    const zeros3 = '93 ca 00 00 00 00 ca 00 00 00 00 ca 00 00 00 00'
    expect(toHex(encode(spawn))).toBe(`91 92 00 94 93 01 a3 76 2e 61 90 92 ${zeros3} ${zeros3} 91 c2 90`)
    expect(toHex(encode(encodeCommand({ type: 'SetAutopilot', actor: 7, enabled: true })))).toBe('91 92 10 92 07 c3')
  })

  it('CommandResponse is Response<ActorId>', () => {
    expect(decodeCommandResponse(dec('91 92 01 cd 03 e8'))).toEqual({ ok: true, actor: 1000 })
    expect(decodeCommandResponse(dec('91 92 00 91 a4 6e 6f 70 65'))).toEqual({ ok: false, error: 'nope' })
  })
})

describe('Response envelopes', () => {
  it('Golden 2: Response<string> [[1, "0.9.15"]]', () => {
    expect(unwrapResponse('version', dec('91 92 01 a6 30 2e 39 2e 31 35'))).toBe('0.9.15')
  })

  it('Golden 3: Response<void> success [[false]] and error [[true, ["msg"]]]', () => {
    expect(unwrapVoid('set_weather_parameters', dec('91 91 c2'))).toBeUndefined()
    expect(() => unwrapVoid('load_new_episode', dec('91 92 c3 91 a3 6d 73 67'))).toThrow(new CarlaRpcError('load_new_episode', 'msg'))
  })

  it('Response<T> error [[0, [message]]] becomes CarlaRpcError with method and server text', () => {
    const err = (() => {
      try {
        unwrapResponse('spawn_actor', dec('91 92 00 91 a9 63 6f 6c 6c 69 73 69 6f 6e'))
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(CarlaRpcError)
    expect(err).toMatchObject({ method: 'spawn_actor', serverMessage: 'collision', message: 'spawn_actor: collision' })
  })

  it('Golden 11: tick_cue replies [[1, F]]', () => {
    expect(unwrapResponse('tick_cue', dec('91 92 01 cd 04 d2'))).toBe(1234)
  })
})
