/**
 * carla-lite's own encoders against the reference's golden bytes (docs/carla-protocol.md "Golden facts" 3–6, 8, 10).
 */
import { describe, expect, it } from 'vitest'
import { encodeWire } from '../../../operators/carla/lite/wire/msgpack-wire.ts'
import {
  decodeSettings,
  decodeTransform,
  defaultSettings,
  encodeSettings,
  encodeTransform,
  failVoid,
  ok,
  okVoid,
} from '../../../operators/carla/lite/wire/carla-structs.ts'
import { makeToken, tokenStreamId } from '../../../operators/carla/lite/stream/token.ts'
import { ACTOR_STATE_BYTES, EPISODE_HEADER_BYTES, encodeWorldState } from '../../../operators/carla/lite/stream/world-state.ts'
import { decodeDepthBgra, depthPixel } from '../../../operators/carla/lite/render/encodings.ts'
import { compose, matrixToRotation, rotationMatrix, transformPoint } from '../../../operators/carla/lite/world/geom.ts'
import { decode } from '@msgpack/msgpack'

const hex = (s: string): string => s.replace(/\s+/g, '')

describe('carla-lite wire encoders', () => {
  it('packs Response<void> as [[false]] / [[true, [msg]]] and Response<T> as [[1, v]]', () => {
    expect(encodeWire(okVoid()).toString('hex')).toBe('9191c2')
    expect(decode(encodeWire(failVoid('boom')))).toEqual([[true, ['boom']]])
    expect(encodeWire([1, 1, null, ok('0.9.15')]).toString('hex')).toBe(hex('94 01 01 c0 91 92 01 a6 30 2e 39 2e 31 35'))
  })

  it('encodes the golden synchronous EpisodeSettings (fact 4) and decodes it back', () => {
    const golden = hex(
      '9b c3 c2 92 c3 cb 3f a9 99 99 99 99 99 9a c3 cb 3f 84 7a e1 47 ae 14 7b 0a ca 00 00 00 00 c3 ca 45 3b 80 00 ca 44 fa 00 00 c3',
    )
    const s = { ...defaultSettings(), synchronousMode: true, fixedDeltaSeconds: 0.05 }
    expect(encodeWire(encodeSettings(s)).toString('hex')).toBe(golden)
    expect(decodeSettings(decode(Buffer.from(golden, 'hex')))).toEqual(s)
    expect(decode(encodeWire(encodeSettings(defaultSettings()))) as unknown[]).toContainEqual([false])
  })

  it('encodes the golden Transform (fact 5) as float32 positional arrays', () => {
    const t = { location: { x: 1.5, y: -2, z: 0.5 }, rotation: { pitch: 0, yaw: 90, roll: 0 } }
    const golden = hex('92 93 ca 3f c0 00 00 ca c0 00 00 00 ca 3f 00 00 00 93 ca 00 00 00 00 ca 42 b4 00 00 ca 00 00 00 00')
    expect(encodeWire(encodeTransform(t)).toString('hex')).toBe(golden)
    expect(decodeTransform(decode(Buffer.from(golden, 'hex')))).toEqual(t)
  })

  it('builds the golden token (fact 6) for stream 5 on port 2001, sent as bin8 in a 1-array', () => {
    const token = makeToken(5, 2001)
    expect(Buffer.from(token).toString('hex')).toBe('05000000d1070100' + '00'.repeat(16))
    expect(encodeWire([token]).subarray(0, 3).toString('hex')).toBe('91c418')
    expect(tokenStreamId(token)).toBe(5)
  })

  it('lays out the world state as 48 + 36 + N×119 bytes (facts 8, 10)', () => {
    const actor = {
      id: 42,
      transform: { location: { x: 1, y: 2, z: 3 }, rotation: { pitch: 4, yaw: 5, roll: 6 } },
      velocity: { x: 7, y: 0, z: 0 },
      angularVelocity: { x: 0, y: 0, z: 0 },
      acceleration: { x: 0, y: 0, z: 0 },
    }
    const msg = encodeWorldState({ frame: 9, timestamp: 0.45, episodeId: 77, deltaSeconds: 0.05, simulationState: 1, actors: [actor, actor] })
    expect(EPISODE_HEADER_BYTES).toBe(36)
    expect(ACTOR_STATE_BYTES).toBe(119)
    expect(msg.readUInt32LE(0)).toBe(48 + 36 + 2 * 119)
    expect(msg.length).toBe(4 + 48 + 36 + 2 * 119)
    const p = msg.subarray(4)
    expect([Number(p.readBigUInt64LE(0)), Number(p.readBigUInt64LE(8)), p.readDoubleLE(16)]).toEqual([16, 9, 0.45])
    expect(Number(p.readBigUInt64LE(48))).toBe(77)
    expect(p.readUInt32LE(48 + 32)).toBe(1)
    expect(p.readUInt32LE(84)).toBe(42)
    expect([p.readFloatLE(84 + 5), p.readFloatLE(84 + 25), p.readFloatLE(84 + 29)]).toEqual([1, 6, 7])
  })

  it('encodes depth so that the reference formula decodes it', () => {
    for (const m of [0.1, 2.5, 17.25, 999.9]) {
      const px = depthPixel(m)
      expect(decodeDepthBgra(px & 0xff, (px >>> 8) & 0xff, (px >>> 16) & 0xff)).toBeCloseTo(m, 3)
      expect(px >>> 24).toBe(255)
    }
    expect(depthPixel(5000)).toBe(0xffffffff)
  })

  it("composes transforms with LibCarla's rotation matrix", () => {
    const parent = { location: { x: 10, y: 0, z: 0 }, rotation: { pitch: 0, yaw: 90, roll: 0 } }
    const child = { location: { x: 2, y: 0, z: 1 }, rotation: { pitch: -10, yaw: 0, roll: 0 } }
    const w = compose(parent, child)
    expect(w.location.x).toBeCloseTo(10)
    expect(w.location.y).toBeCloseTo(2) // yaw 90: forward is +y
    expect(w.location.z).toBeCloseTo(1)
    expect(w.rotation.yaw).toBeCloseTo(90)
    expect(w.rotation.pitch).toBeCloseTo(-10)
    const r = { pitch: 12, yaw: -40, roll: 7 }
    const back = matrixToRotation(rotationMatrix(r))
    expect([back.pitch, back.yaw, back.roll].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([12, -40, 7])
    expect(transformPoint({ location: { x: 0, y: 0, z: 0 }, rotation: { pitch: 90, yaw: 0, roll: 0 } }, { x: 1, y: 0, z: 0 }).z).toBeCloseTo(1)
  })
})
