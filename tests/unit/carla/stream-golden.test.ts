/** Streaming bytes from docs/carla-protocol.md §4 and Golden facts 6–8 and 10, built by hand. */
import { describe, expect, it } from 'vitest'
import { StreamFramer } from '../../../operators/carla/client/stream-framer.ts'
import { parseStreamToken, streamEndpoint } from '../../../operators/carla/client/stream-token.ts'
import { bgraToRgb, decodeDepth, depthAt, parseImage, parseSensorHeader, semanticTags } from '../../../operators/carla/client/stream-sensor-data.ts'
import { parseWorldState } from '../../../operators/carla/client/stream-world-state.ts'
import { subscribeStream } from '../../../operators/carla/client/stream-socket.ts'
import { CarlaProtocolError } from '../../../operators/carla/client/errors.ts'
import { hex, toHex } from './hex.ts'
import { wirePeer } from './wire-server.ts'

/** Golden 8: type 13, frame 1234, t=61.7, transform (1, 2, 3, pitch −5, yaw 90, roll 0). */
const HEADER =
  '0d 00 00 00 00 00 00 00' +
  ' d2 04 00 00 00 00 00 00' +
  ' 9a 99 99 99 99 d9 4e 40' +
  ' 00 00 80 3f 00 00 00 40 00 00 40 40 00 00 a0 c0 00 00 b4 42 00 00 00 00'

describe('stream token', () => {
  it('Golden 6: stream 5, port 2001, tcp, no address → connect to the RPC host', () => {
    const t = parseStreamToken(hex('05 00 00 00 d1 07 01 00' + ' 00'.repeat(16)))
    expect(t).toEqual({ streamId: 5, port: 2001, protocol: 1, addressType: 0, address: null })
    expect(streamEndpoint(t, 'carla.local')).toEqual({ host: 'carla.local', port: 2001 })
  })

  it('a v4 address fills the first 4 address bytes in network order (multi-GPU secondaries)', () => {
    const t = parseStreamToken(hex('07 00 00 00 b8 0b 01 01 0a 00 00 02' + ' 00'.repeat(12)))
    expect(t).toMatchObject({ streamId: 7, port: 3000, address: '10.0.0.2' })
    expect(streamEndpoint(t, 'primary')).toEqual({ host: '10.0.0.2', port: 3000 })
    expect(() => parseStreamToken(new Uint8Array(23))).toThrow(CarlaProtocolError)
  })
})

describe('framing', () => {
  function imageMessage(w: number, h: number): Buffer {
    const body = Buffer.alloc(48 + 12 + w * h * 4)
    hex(HEADER).copy(body, 0)
    body.writeUInt32LE(w, 48)
    body.writeUInt32LE(h, 52)
    body.writeFloatLE(90, 56)
    for (let i = 60; i < body.length; i++) body[i] = i & 0xff
    const len = Buffer.alloc(4)
    len.writeUInt32LE(body.length)
    return Buffer.concat([len, body])
  }

  it('Golden 7: an 800×600 camera message starts 3c 4c 1d 00 (1,920,060 bytes)', () => {
    const msg = imageMessage(800, 600)
    expect(toHex(msg.subarray(0, 4))).toBe('3c 4c 1d 00')
    const got: Buffer[] = []
    const f = new StreamFramer((m) => got.push(m))
    // 64 KiB chunks, as a socket delivers them.
    for (let o = 0; o < msg.length; o += 65536) f.push(msg.subarray(o, o + 65536))
    expect(got).toHaveLength(1)
    expect(got[0]!.length).toBe(1_920_060)
    expect(got[0]!.equals(msg.subarray(4))).toBe(true)
  })

  it('splits the length prefix across chunks, and returns small whole messages as zero-copy views', () => {
    const a = imageMessage(2, 1)
    const b = imageMessage(1, 1)
    const both = Buffer.concat([a, b, a])
    const got: Buffer[] = []
    const f = new StreamFramer((m) => got.push(m))
    f.push(both.subarray(0, 2))
    f.push(both.subarray(2, a.length + 3))
    f.push(both.subarray(a.length + 3))
    expect(got.map((m) => m.length)).toEqual([68, 64, 68])
    expect(got[2]!.buffer).toBe(both.buffer) // the last one lay inside one chunk: a view, not a copy
    expect(got[1]!.equals(b.subarray(4))).toBe(true)
  })

  it('onread mode: bodies are read straight into their final buffer; scratch-borne messages are copied out', () => {
    const big = imageMessage(64, 64) // 16 KiB body, larger than one simulated read
    const small = imageMessage(1, 1)
    const stream = Buffer.concat([small, big, small, big, small])
    const got: Buffer[] = []
    const f = new StreamFramer((m) => got.push(m))
    let off = 0
    let direct = 0
    while (off < stream.length) {
      const target = f.readTarget()
      const n = Math.min(target.length, 1000 + (off % 777), stream.length - off) // uneven "kernel reads"
      stream.copy(target, 0, off, off + n)
      if (target.length !== 64 * 1024) direct += n
      f.commit(target, n)
      off += n
    }
    expect(got.map((m) => m.length)).toEqual([64, 16444, 64, 16444, 64])
    expect(got[1]!.equals(big.subarray(4))).toBe(true)
    expect(got[4]!.equals(small.subarray(4))).toBe(true)
    expect(direct).toBeGreaterThan(2 * 14000) // most body bytes never passed through scratch
    // Small messages were copied out of the reused scratch buffer: still intact after later reads overwrote it.
    for (const i of [0, 2, 4]) expect(got[i]!.equals(small.subarray(4))).toBe(true)
  })

  it('refuses absurd lengths instead of allocating them', () => {
    const f = new StreamFramer(() => {}, 1024)
    expect(() => f.push(hex('ff ff ff 7f 00'))).toThrow(/exceeds 1024/)
  })
})

describe('sensor payloads', () => {
  it('Golden 8: the 48-byte header is u64 type, u64 frame, f64 timestamp, 6×f32 transform', () => {
    const h = parseSensorHeader(hex(HEADER))
    expect(h).toEqual({
      sensorType: 13,
      frame: 1234,
      timestamp: 61.7,
      transform: { location: { x: 1, y: 2, z: 3 }, rotation: { pitch: -5, yaw: 90, roll: 0 } },
    })
  })

  it('image: u32 w, u32 h, f32 fov, then BGRA8 rows, as a view of the message', () => {
    const msg = Buffer.concat([hex(HEADER), hex('02 00 00 00 01 00 00 00 00 00 b4 42'), hex('01 02 03 ff 0a 0b 0c ff')])
    const img = parseImage(msg)
    expect(img).toMatchObject({ width: 2, height: 1, fov: 90 })
    expect([...img.pixels]).toEqual([1, 2, 3, 255, 10, 11, 12, 255])
    expect(img.pixels.buffer).toBe(msg.buffer)
    expect([...bgraToRgb(img.pixels)]).toEqual([3, 2, 1, 12, 11, 10])
    expect(() => parseImage(msg.subarray(0, msg.length - 1))).toThrow(/should be 68 bytes/)
  })

  it('depth: metres = (R + G·256 + B·256²)/(256³−1)·1000 from BGRA', () => {
    // pixel 0: R=255,G=255,B=255 → 1000 m; pixel 1: R=0,G=1,B=0 → 256/16777215·1000
    const px = hex('ff ff ff ff 00 01 00 ff')
    const d = decodeDepth(px)
    expect(d[0]).toBeCloseTo(1000, 3)
    expect(d[1]).toBeCloseTo((256 / 16777215) * 1000, 6)
    expect(depthAt(px, 2, 1, 0)).toBeCloseTo(d[1]!, 6)
  })

  it('semantic: the tag is in R (byte 2 of BGRA)', () => {
    expect([...semanticTags(hex('00 00 0e ff 00 00 0c ff'))]).toEqual([14, 12])
  })

  it('Golden 10: world state = header + 36-byte episode header + N×119-byte ActorDynamicState', () => {
    const ep = '2a 00 00 00 00 00 00 00' + ' 00 00 00 00 00 00 f0 3f' + ' cd cc 4c 3d' + ' 01 00 00 00 fe ff ff ff 00 00 00 00' + ' 01 00 00 00'
    const actor = (id: string, x: string): string =>
      `${id} 01 ${x} 00 00 00 00 00 00 00 00 00 00 00 00 00 00 b4 42 00 00 00 00` + ' 00 00 20 41'.repeat(3) + ' 00'.repeat(24) + ' 00'.repeat(54)
    const msg = hex(HEADER.replace(/^0d/, '10') + ' ' + ep + ' ' + actor('e8 03 00 00', '00 00 80 3f') + ' ' + actor('e9 03 00 00', '00 00 00 40'))
    expect(msg.length).toBe(48 + 36 + 2 * 119)
    const w = parseWorldState(msg)
    expect(w).toMatchObject({ episodeId: 42n, platformTimestamp: 1, mapOrigin: [1, -2, 0], simulationState: 1 })
    expect(w.deltaSeconds).toBeCloseTo(0.05, 6)
    expect(w.header.sensorType).toBe(16)
    expect(w.actors.map((a) => [a.id, a.actorState, a.transform.location.x, a.transform.rotation.yaw])).toEqual([
      [1000, 1, 1, 90],
      [1001, 1, 2, 90],
    ])
    expect(w.actors[0]!.velocity).toEqual({ x: 10, y: 10, z: 10 })
    expect(() => parseWorldState(msg.subarray(0, msg.length - 1))).toThrow(/48 \+ 36 \+ N×119/)
  })
})

describe('stream subscription', () => {
  it('Golden 7: the client writes only the 4-byte LE stream id, then reads framed messages; a server close is reported once', async () => {
    const peer = await wirePeer((chunk, s) => {
      s.write(hex('03 00 00 00 61 62 63 02 00 00 00 64 65'))
      setTimeout(() => s.end(), 10)
    })
    const messages: string[] = []
    const errors: Error[] = []
    const done = new Promise<void>((resolve) => {
      void subscribeStream({
        rpcHost: '127.0.0.1',
        token: hex(`05 00 00 00 ${toHex(Buffer.from([peer.port & 0xff, peer.port >> 8]))} 01 00` + ' 00'.repeat(16)),
        name: 'rgb',
        onMessage: (m) => messages.push(m.toString()),
        onError: (e) => (errors.push(e), resolve()),
      })
    })
    await done
    expect(toHex(peer.bytes())).toBe('05 00 00 00')
    expect(messages).toEqual(['abc', 'de'])
    expect(errors).toHaveLength(1)
    expect(errors[0]!.message).toMatch(/rgb \(stream 5 at 127\.0\.0\.1:\d+\): closed by the server after 2 messages/)
    await peer.close()
  })

  it('a refused connection rejects the subscribe promise with a clear error', async () => {
    const peer = await wirePeer()
    const port = peer.port
    await peer.close()
    const token = Buffer.alloc(24)
    token.writeUInt32LE(9, 0)
    token.writeUInt16LE(port, 4)
    await expect(subscribeStream({ rpcHost: '127.0.0.1', token, name: 'depth', onMessage: () => {}, onError: () => {} })).rejects.toThrow(
      /depth \(stream 9 at 127\.0\.0\.1:\d+\): cannot connect \(connect ECONNREFUSED/,
    )
  })
})
