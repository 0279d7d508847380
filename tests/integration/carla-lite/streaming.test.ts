/**
 * carla-lite's streaming port and frame semantics (docs/carla-protocol.md §4): tokens, the 4-byte subscribe, the
 * u32-length framing, tick_cue → world state F → every sensor's frame F, sensor_tick, and back-pressure.
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCarlaLite, type CarlaLiteHandle } from '../../../operators/carla/lite/index.ts'
import { RawRpc, RawStream } from './helpers/raw-client.ts'

type Def = [number, string, string, unknown[]]
type ActorW = [number, number, unknown, unknown, Uint8Array, Uint8Array]

const SYNC = [true, false, [true, 0.05], true, 0.01, 10, 0, true, 3000, 2000, true]
const ASYNC_FIXED = [false, false, [true, 0.02], true, 0.01, 10, 0, true, 3000, 2000, true]

let server: CarlaLiteHandle
let rpc: RawRpc
let defs: Def[]
const desc = (id: string, attrs: [string, number, string][] = []): unknown => [defs.find((d) => d[1] === id)![0], id, attrs]
const camAttrs = (w: number, h: number, extra: [string, number, string][] = []): [string, number, string][] => [
  ['image_size_x', 2, String(w)],
  ['image_size_y', 2, String(h)],
  ...extra,
]
const streamId = (a: ActorW): number => Buffer.from(a[5]).readUInt32LE(0)

beforeAll(async () => {
  server = await startCarlaLite({ port: 0, seed: 3 })
  rpc = await RawRpc.connect(server.rpcPort)
  defs = await rpc.value<Def[]>('get_actor_definitions')
  await rpc.value('set_episode_settings', SYNC)
})
afterAll(async () => {
  rpc.close()
  await server.close()
})

describe('carla-lite streaming', () => {
  it('hands out 24-byte tokens: stream id, stream port, tcp, no address', async () => {
    const [, [token]] = await rpc.value<[number, [Uint8Array]]>('get_episode_info')
    const fresh = Buffer.from((await rpc.value<[Uint8Array]>('get_sensor_token', 1))[0])
    for (const t of [Buffer.from(token), fresh]) {
      expect(t).toHaveLength(24)
      expect(t.readUInt32LE(0)).toBe(1)
      expect(t.readUInt16LE(4)).toBe(server.streamPort)
      expect([t[6], t[7]]).toEqual([1, 0])
      expect(t.subarray(8).every((b) => b === 0)).toBe(true)
    }
    expect(server.streamPort).toBe(server.rpcPort + 1)
    expect((await rpc.carla('get_sensor_token', 4242)) as unknown[]).toEqual([[0, [expect.stringMatching(/no stream/)]]])
  })

  it('numbers frames: tick_cue answers current+1 and the world state for exactly that frame follows', async () => {
    const [episode] = await rpc.value<[number]>('get_episode_info')
    const world = await RawStream.connect(server.streamPort, 1)
    const car = await rpc.value<ActorW>('spawn_actor', desc('vehicle.toyota.prius'), [
      [40, -1.75, 0.6],
      [0, 180, 0],
    ])
    const current = await rpc.value<number>('set_episode_settings', SYNC)
    const f1 = await rpc.value<number>('tick_cue')
    expect(f1).toBe(current + 1)
    const f2 = await rpc.value<number>('tick_cue')
    expect(f2).toBe(f1 + 1)
    for (const f of [f1, f2]) {
      const msg = await world.frame(f)
      expect(Number(msg.readBigUInt64LE(0))).toBe(16) // world observer
      const n = (msg.length - 48 - 36) / 119
      expect(Number.isInteger(n)).toBe(true)
      expect(Number(msg.readBigUInt64LE(48))).toBe(episode)
      expect(msg.readFloatLE(48 + 16)).toBeCloseTo(0.05)
      const ids = Array.from({ length: n }, (_, i) => msg.readUInt32LE(84 + i * 119))
      expect(ids).toContain(car[0])
      const rec = 84 + ids.indexOf(car[0]) * 119
      expect(msg[rec + 4]).toBe(1) // Active
      expect([msg.readFloatLE(rec + 5), msg.readFloatLE(rec + 9), msg.readFloatLE(rec + 13)]).toEqual([40, -1.75, 0])
      expect(msg.readFloatLE(rec + 21)).toBe(180) // yaw
    }
    // The timestamp advances by fixed_delta_seconds per frame.
    expect((await world.frame(f2)).readDoubleLE(16) - (await world.frame(f1)).readDoubleLE(16)).toBeCloseTo(0.05, 6)
    world.close()
    await rpc.value('destroy_actor', car[0])
  })

  it('sends every camera its frame F with the 48-byte header, image header and BGRA pixels', async () => {
    const ego = await rpc.value<ActorW>('spawn_actor', desc('vehicle.tesla.model3'), [
      [0, 1.75, 0.6],
      [0, 0, 0],
    ])
    const mount = [
      [1.5, 0, 2.4],
      [-5, 0, 0],
    ]
    const cams = await Promise.all(
      ['sensor.camera.rgb', 'sensor.camera.depth', 'sensor.camera.semantic_segmentation'].map((bp) =>
        rpc.value<ActorW>('spawn_actor_with_parent', desc(bp, camAttrs(800, 600)), mount, ego[0], 0),
      ),
    )
    // Golden fact 7: an 800×600 message starts 3c 4c 1d 00.
    const raw = net.connect({ host: '127.0.0.1', port: server.streamPort })
    const first4 = new Promise<Buffer>((resolve) => raw.once('readable', () => resolve(raw.read(4) as Buffer)))
    await new Promise<void>((r) => raw.once('connect', () => r()))
    const idBuf = Buffer.alloc(4)
    idBuf.writeUInt32LE(streamId(cams[0]))
    raw.write(idBuf)
    const streams = await Promise.all(cams.map((c) => RawStream.connect(server.streamPort, streamId(c))))
    await new Promise((r) => setTimeout(r, 30))
    const frames: number[] = []
    for (let i = 0; i < 3; i++) frames.push(await rpc.value<number>('tick_cue'))
    expect((await first4).toString('hex')).toBe('3c4c1d00')
    raw.destroy()
    const types = [13, 1, 14]
    for (const [k, s] of streams.entries()) {
      for (const f of frames) {
        const m = await s.frame(f)
        expect(m.length).toBe(48 + 12 + 800 * 600 * 4)
        expect(Number(m.readBigUInt64LE(0))).toBe(types[k])
        expect([m.readUInt32LE(48), m.readUInt32LE(52), m.readFloatLE(56)]).toEqual([800, 600, 90])
        // Sensor world transform = ego ∘ mount.
        expect(m.readFloatLE(24)).toBeCloseTo(1.5)
        expect(m.readFloatLE(28)).toBeCloseTo(1.75)
        expect(m.readFloatLE(32)).toBeCloseTo(2.4)
        expect(m.readFloatLE(36)).toBeCloseTo(-5)
        expect(m[60 + 3]).toBe(255) // alpha
      }
      s.close()
    }
    await rpc.carla(
      'apply_batch',
      [...cams, ego].map((a) => [[1, [a[0]]]]),
      false,
    )
  })

  it('renders a spawned car where the reference projection puts it (semantic tag 14) and sky above the horizon', async () => {
    const W = 640,
      H = 480,
      FOV = 90
    const camPose = [
      [-10, 8, 2],
      [0, 0, 0],
    ]
    const cam = await rpc.value<ActorW>(
      'spawn_actor',
      desc('sensor.camera.semantic_segmentation', camAttrs(W, H, [['fov', 3, String(FOV)]])),
      camPose,
    )
    const car = await rpc.value<ActorW>('spawn_actor', desc('vehicle.tesla.model3'), [
      [10, 5.25, 0.6],
      [0, 20, 0],
    ])
    const world = await RawStream.connect(server.streamPort, 1)
    const s = await RawStream.connect(server.streamPort, streamId(cam))
    const f = await rpc.value<number>('tick_cue')
    const img = await s.frame(f)
    const ws = await world.frame(f)
    // Everything the client needs comes off the wire: camera pose from the image header, car pose from the world
    // state, box from the Actor.
    const camT = { x: img.readFloatLE(24), y: img.readFloatLE(28), z: img.readFloatLE(32) }
    const n = (ws.length - 84) / 119
    const rec = 84 + Array.from({ length: n }, (_, i) => ws.readUInt32LE(84 + i * 119)).indexOf(car[0]) * 119
    const carT = { x: ws.readFloatLE(rec + 5), y: ws.readFloatLE(rec + 9), z: ws.readFloatLE(rec + 13), yaw: ws.readFloatLE(rec + 21) }
    const [[, , bz], [ex, ey, ez]] = car[3] as number[][]
    const fx = W / (2 * Math.tan((FOV * Math.PI) / 360))
    const uv: [number, number][] = []
    for (const sx of [-1, 1])
      for (const sy of [-1, 1])
        for (const sz of [-1, 1]) {
          const c = Math.cos((carT.yaw * Math.PI) / 180),
            sn = Math.sin((carT.yaw * Math.PI) / 180)
          const lx = sx * ex,
            ly = sy * ey,
            lz = bz + sz * ez
          const wx = carT.x + c * lx - sn * ly,
            wy = carT.y + sn * lx + c * ly,
            wz = carT.z + lz
          // Camera has zero rotation: camera-local = world − camera; then (x, y, z) → (y, −z, x).
          const [x, y, z] = [wx - camT.x, wy - camT.y, wz - camT.z]
          uv.push([(fx * y) / x + W / 2, (fx * -z) / x + H / 2])
        }
    const box = [
      Math.min(...uv.map((p) => p[0])),
      Math.min(...uv.map((p) => p[1])),
      Math.max(...uv.map((p) => p[0])),
      Math.max(...uv.map((p) => p[1])),
    ]
    const tag = (u: number, v: number): number => img[60 + (v * W + u) * 4 + 2]
    let [i0, j0, i1, j1] = [W, H, -1, -1]
    for (let v = 0; v < H; v++)
      for (let u = 0; u < W; u++) {
        if (tag(u, v) !== 14) continue
        ;[i0, j0, i1, j1] = [Math.min(i0, u), Math.min(j0, v), Math.max(i1, u + 1), Math.max(j1, v + 1)]
      }
    expect(i1).toBeGreaterThan(i0)
    for (const [got, want] of [
      [i0, box[0]],
      [j0, box[1]],
      [i1, box[2]],
      [j1, box[3]],
    ])
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1.5)
    expect(tag(Math.floor((box[0] + box[2]) / 2), Math.floor((box[1] + box[3]) / 2))).toBe(14)
    for (let u = 0; u < W; u += 16) expect(tag(u, 5)).toBe(11)
    s.close()
    world.close()
    await rpc.carla('apply_batch', [[[1, [cam[0]]]], [[1, [car[0]]]]], false)
  })

  it('honours sensor_tick: a 0.1 s camera at 0.05 s steps sends every other frame', async () => {
    const cam = await rpc.value<ActorW>('spawn_actor', desc('sensor.camera.rgb', camAttrs(64, 48, [['sensor_tick', 3, '0.1']])), [
      [0, 0, 2],
      [0, 0, 0],
    ])
    const s = await RawStream.connect(server.streamPort, streamId(cam))
    const frames: number[] = []
    for (let i = 0; i < 6; i++) frames.push(await rpc.value<number>('tick_cue'))
    await s.frame(frames[4])
    await rpc.value('set_episode_settings', SYNC) // a round trip behind the last tick
    const got = s.messages.map((m) => Number(m.readBigUInt64LE(8)))
    expect(got).toEqual([frames[0], frames[2], frames[4]])
    s.close()
    await rpc.value('destroy_actor', cam[0])
  })

  it("closes a destroyed sensor's stream and refuses unknown stream ids", async () => {
    const cam = await rpc.value<ActorW>('spawn_actor', desc('sensor.camera.depth', camAttrs(32, 24)), [
      [0, 0, 2],
      [0, 0, 0],
    ])
    const s = await RawStream.connect(server.streamPort, streamId(cam))
    await rpc.value('destroy_actor', cam[0])
    const bogus = await RawStream.connect(server.streamPort, 987654)
    for (let i = 0; i < 50 && !(s.ended && bogus.ended); i++) await new Promise((r) => setTimeout(r, 20))
    expect(s.ended).toBe(true)
    expect(bogus.ended).toBe(true)
  })

  it('in synchronous mode stalls the simulation behind a slow reader and drops nothing', async () => {
    const cam = await rpc.value<ActorW>('spawn_actor', desc('sensor.camera.rgb', camAttrs(2560, 1440)), [
      [0, 0, 2],
      [0, 0, 0],
    ])
    const s = await RawStream.connect(server.streamPort, streamId(cam))
    s.socket.pause()
    let stalled: Promise<unknown> | null = null
    const cued: number[] = []
    for (let i = 0; i < 8 && !stalled; i++) {
      const call = rpc.value<number>('tick_cue').then((f) => cued.push(f))
      const quick = await Promise.race([call.then(() => true), new Promise((r) => setTimeout(() => r(false), 400))])
      if (!quick) stalled = call
    }
    expect(stalled).not.toBeNull() // the game thread waits for the reader, as CARLA's ServerSession does
    s.socket.resume()
    await stalled
    const last = cued[cued.length - 1]
    await s.frame(last, 10_000)
    const got = s.messages.map((m) => Number(m.readBigUInt64LE(8)))
    expect(got).toEqual(cued.slice().sort((a, b) => a - b))
    s.close()
    await rpc.value('destroy_actor', cam[0])
  })

  it('in asynchronous mode free-runs and drops frames for a busy reader', async () => {
    const cam = await rpc.value<ActorW>('spawn_actor', desc('sensor.camera.rgb', camAttrs(2560, 1440)), [
      [0, 0, 2],
      [0, 0, 0],
    ])
    const s = await RawStream.connect(server.streamPort, streamId(cam))
    s.socket.pause()
    const start = await rpc.value<number>('set_episode_settings', ASYNC_FIXED)
    await new Promise((r) => setTimeout(r, 700))
    s.socket.resume()
    await new Promise((r) => setTimeout(r, 400))
    const end = await rpc.value<number>('set_episode_settings', SYNC)
    expect(end - start).toBeGreaterThan(10) // ticked on its own
    const got = s.messages.map((m) => Number(m.readBigUInt64LE(8)))
    expect(got.length).toBeGreaterThan(0)
    expect(got.length).toBeLessThan(end - start) // some frames were dropped, not queued
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1])
    s.close()
    await rpc.value('destroy_actor', cam[0])
  })
})

describe('carla-lite pipelined ticks', () => {
  it('numbers pipelined tick_cues consecutively and sends every one of those frames', async () => {
    const s = await startCarlaLite()
    const c = await RawRpc.connect(s.rpcPort)
    const world = await RawStream.connect(s.streamPort, 1)
    await c.value('set_episode_settings', SYNC)
    // Five cues written back to back, before any reply is read.
    const replies = await Promise.all(Array.from({ length: 5 }, () => c.value<number>('tick_cue')))
    expect(replies).toEqual(replies.map((_, i) => replies[0] + i))
    for (const f of replies) expect(Number((await world.frame(f)).readBigUInt64LE(8))).toBe(f)
    world.close()
    c.close()
    await s.close()
  })
})
