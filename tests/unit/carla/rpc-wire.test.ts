/** What the client puts on the wire and how it reads replies, byte for byte (docs/carla-protocol.md Golden facts). */
import { afterEach, describe, expect, it } from 'vitest'
import { decode } from '@msgpack/msgpack'
import { CarlaClient } from '../../../operators/carla/client/carla-client.ts'
import { TrafficManagerClient } from '../../../operators/carla/client/traffic-manager-client.ts'
import { CarlaRpcError } from '../../../operators/carla/client/errors.ts'
import { hex, toHex } from './hex.ts'
import { wirePeer, type WirePeer } from './wire-server.ts'

let peer: WirePeer | null = null
let client: CarlaClient | null = null
afterEach(async () => {
  client?.close()
  await peer?.close()
  peer = client = null
})

/** Answers msgid N with `[1, N, nil, result]`, given as raw msgpack of the result. */
function replyWith(resultHex: (msgid: number, method: string) => string) {
  return (chunk: Buffer, s: import('node:net').Socket): void => {
    const req = decode(chunk) as [number, number, string, unknown[]]
    s.write(Buffer.concat([hex('94 01'), Buffer.from(encodeUint(req[1])), hex('c0'), hex(resultHex(req[1], req[2]))]))
  }
}
const encodeUint = (n: number): number[] => (n < 128 ? [n] : [0xcc, n])

describe('RPC requests on the wire', () => {
  it('Golden 1+2: version is 94 00 01 a7 "version" 91 91 c2 and the reply [[1,"0.9.15"]] decodes to the string', async () => {
    peer = await wirePeer((c, s) => s.write(hex('94 01 01 c0 91 92 01 a6 30 2e 39 2e 31 35')))
    client = await CarlaClient.connect({ host: '127.0.0.1', port: peer.port })
    expect(await client.version()).toBe('0.9.15')
    expect(toHex(peer.bytes())).toBe('94 00 01 a7 76 65 72 73 69 6f 6e 91 91 c2')
  })

  it('Golden 9: the 11th call, apply_batch([DestroyActor 42], tick) is exactly the reference bytes', async () => {
    peer = await wirePeer(replyWith((id, m) => (m === 'apply_batch' ? '91 91 92 01 2a' : '91 92 01 a6 30 2e 39 2e 31 35')))
    client = await CarlaClient.connect({ host: '127.0.0.1', port: peer.port })
    for (let i = 0; i < 10; i++) await client.version()
    peer.received.length = 0
    const res = await client.applyBatch([{ type: 'DestroyActor', actor: 42 }], true)
    expect(toHex(peer.bytes())).toBe('94 00 0b ab 61 70 70 6c 79 5f 62 61 74 63 68 93 91 c2 91 91 92 01 91 2a c3')
    expect(res).toEqual([{ ok: true, actor: 42 }])
  })

  it('spawn_actor_with_parent sends [[false], description, transform, parent, attachment] (4 args in 0.9.15)', async () => {
    const actorHex =
      '96 cd 03 e9 cd 03 e8 93 04 a3 73 2e 63 90 93 93 ca 00 00 00 00 ca 00 00 00 00 ca 00 00 00 00 93 ca 00 00 00 00 ca 00 00 00 00 ca 00 00 00 00 93 ca 00 00 00 00 ca 00 00 00 00 ca 00 00 00 00 c4 00 c4 18 02 00 00 00 d1 07 01 00' +
      ' 00'.repeat(16)
    peer = await wirePeer(replyWith(() => `91 92 01 ${actorHex}`))
    client = await CarlaClient.connect({ host: '127.0.0.1', port: peer.port })
    const tf = { location: { x: 1.5, y: -2, z: 0.5 }, rotation: { pitch: 0, yaw: 90, roll: 0 } }
    const actor = await client.spawnActorWithParent({ uid: 4, id: 's.c', attributes: [] }, tf, 1000, 0)
    expect(toHex(peer.bytes())).toBe(
      '94 00 01 b7 ' +
        toHex(Buffer.from('spawn_actor_with_parent')) +
        ' 95 91 c2 93 04 a3 73 2e 63 90 ' +
        '92 93 ca 3f c0 00 00 ca c0 00 00 00 ca 3f 00 00 00 93 ca 00 00 00 00 ca 42 b4 00 00 ca 00 00 00 00 cd 03 e8 00',
    )
    expect(actor).toMatchObject({ id: 1001, parentId: 1000 })
    expect(actor.streamToken.length).toBe(24)
  })

  it('load_new_episode sends map, reset flag and layers 0xFFFF as uint16', async () => {
    peer = await wirePeer(replyWith(() => '91 91 c2'))
    client = await CarlaClient.connect({ host: '127.0.0.1', port: peer.port })
    await client.loadNewEpisode('Town01')
    expect(toHex(peer.bytes())).toBe('94 00 01 b0 ' + toHex(Buffer.from('load_new_episode')) + ' 94 91 c2 a6 54 6f 77 6e 30 31 c3 cd ff ff')
  })

  it('a Response error becomes CarlaRpcError naming the method and the server message', async () => {
    peer = await wirePeer(replyWith(() => '91 92 00 91 ' + 'b5' + toHex(Buffer.from('Spawn failed: collide'))))
    client = await CarlaClient.connect({ host: '127.0.0.1', port: peer.port })
    const err = await client
      .spawnActor({ uid: 1, id: 'v', attributes: [] }, { location: { x: 0, y: 0, z: 0 }, rotation: { pitch: 0, yaw: 0, roll: 0 } })
      .catch((e) => e)
    expect(err).toBeInstanceOf(CarlaRpcError)
    expect(err.message).toBe('spawn_actor: Spawn failed: collide')
  })

  it('an rpclib error string (e.g. missing metadata arity error) becomes CarlaRpcError', async () => {
    const text = "rpclib: server could not find function 'tick_cue' with argument count 0."
    peer = await wirePeer((c, s) => s.write(Buffer.concat([hex('94 01 01 d9'), Buffer.from([text.length]), Buffer.from(text), hex('c0')])))
    client = await CarlaClient.connect({ host: '127.0.0.1', port: peer.port })
    await expect(client.tickCue()).rejects.toMatchObject({ method: 'tick_cue', serverMessage: text })
  })

  it('replies arriving in one chunk or split byte by byte are matched by msgid, out of order', async () => {
    peer = await wirePeer((chunk, s, p) => {
      if (p.received.length < 2) return
      // Answer msgid 2 first, then msgid 1, one byte at a time.
      const bytes = hex('94 01 02 c0 91 92 01 02 94 01 01 c0 91 92 01 01')
      let i = 0
      const t = setInterval(() => (i < bytes.length ? s.write(bytes.subarray(i, ++i)) : clearInterval(t)), 1)
    })
    client = await CarlaClient.connect({ host: '127.0.0.1', port: peer.port })
    const a = client.tickCue()
    await new Promise((r) => setTimeout(r, 20))
    const b = client.tickCue()
    expect(await Promise.all([a, b])).toEqual([1, 2])
  })
})

describe('Traffic Manager RPC', () => {
  it('sends no Metadata argument and reads plain results', async () => {
    peer = await wirePeer((c, s) => s.write(hex('94 01 01 c0 c3')))
    const tm = await TrafficManagerClient.connect({ host: '127.0.0.1', port: peer.port })
    expect(await tm.synchronousTick()).toBe(true)
    expect(toHex(peer.bytes())).toBe('94 00 01 b0 ' + toHex(Buffer.from('synchronous_tick')) + ' 90')
    tm.close()
  })

  it('set_global_distance_to_leading_vehicle sends a float32', async () => {
    peer = await wirePeer((c, s) => s.write(hex('94 01 01 c0 c0')))
    const tm = await TrafficManagerClient.connect({ host: '127.0.0.1', port: peer.port })
    await tm.setGlobalDistanceToLeadingVehicle(2)
    expect(toHex(peer.bytes()).endsWith('91 ca 40 00 00 00')).toBe(true)
    tm.close()
  })
})
