/**
 * A minimal in-test CARLA double: just enough of docs/carla-protocol.md to run a shard, with hooks to make it fail.
 * It is written against the reference (and @msgpack/msgpack for its own encoding), not against our client's
 * encoder, so a client bug does not cancel out. Floats it sends are float64; the client must accept either.
 */
import net from 'node:net'
import { Decoder, encode } from '@msgpack/msgpack'

export interface FakeActor {
  id: number
  parentId: number
  description: [number, string, unknown[]]
  transform: [[number, number, number], [number, number, number]]
  streamId: number
  alive: boolean
}

export interface FakeServerOptions {
  /** Called for every RPC; return 'kill' to drop every connection, 'hang' to never answer, or an error string. */
  onCall?(method: string, params: unknown[], server: FakeCarlaServer): 'kill' | 'hang' | string | void
  imageWidth?: number
  imageHeight?: number
}

const WEATHER = Array.from({ length: 14 }, (_, i) => (i === 12 ? 0.0331 : 0))
const SETTINGS_DEFAULT: unknown[] = [false, false, [false], true, 0.01, 10, 0, true, 3000, 2000, true]
const ok = (v: unknown): unknown => [[1, v]]
const okVoid = (): unknown => [[false]]
const fail = (msg: string): unknown => [[0, [msg]]]

export class FakeCarlaServer {
  readonly calls: Array<{ method: string; params: unknown[] }> = []
  settings: unknown[] = SETTINGS_DEFAULT.slice()
  frame = 100
  episodeId = 7
  readonly actors = new Map<number, FakeActor>()
  private nextActor = 1000
  private nextStream = 2
  private readonly subscribers = new Map<number, net.Socket[]>()
  private readonly sockets = new Set<net.Socket>()
  private rpc!: net.Server
  private stream!: net.Server
  rpcPort = 0
  /** When true, sensor streams stop sending (the world observer goes on), like a stalled GPU readback. */
  muteSensors = false
  streamPort = 0
  readonly w: number
  readonly h: number

  constructor(private readonly opts: FakeServerOptions = {}) {
    this.w = opts.imageWidth ?? 320
    this.h = opts.imageHeight ?? 240
  }

  async start(): Promise<this> {
    this.rpc = net.createServer((s) => this.onRpc(s))
    this.stream = net.createServer((s) => this.onStream(s))
    this.rpcPort = await listen(this.rpc)
    this.streamPort = await listen(this.stream)
    return this
  }

  /** Simulates a crash: every connection reset and both ports closed. */
  kill(): void {
    for (const s of this.sockets) s.destroy()
    this.rpc.close()
    this.stream.close()
  }

  async close(): Promise<void> {
    this.kill()
  }

  get aliveActors(): FakeActor[] {
    return [...this.actors.values()].filter((a) => a.alive)
  }

  get syncMode(): boolean {
    return this.settings[0] === true
  }

  private token(streamId: number): Uint8Array {
    const b = Buffer.alloc(24)
    b.writeUInt32LE(streamId, 0)
    b.writeUInt16LE(this.streamPort, 4)
    b[6] = 1
    return new Uint8Array(b)
  }

  private onRpc(s: net.Socket): void {
    this.sockets.add(s)
    s.on('close', () => this.sockets.delete(s))
    s.on('error', () => {})
    const decoder = new Decoder()
    void (async () => {
      try {
        for await (const msg of decoder.decodeStream(s)) {
          const [, id, method, params] = msg as [number, number, string, unknown[]]
          this.calls.push({ method, params })
          const hook = this.opts.onCall?.(method, params, this)
          if (hook === 'kill') return this.kill()
          if (hook === 'hang') continue
          let error: unknown = null
          let result: unknown = null
          if (typeof hook === 'string') result = fail(hook)
          else if (!Array.isArray(params) || !Array.isArray(params[0]) || params[0][0] !== false) {
            error = `rpclib: function '${method}' (called with ${Array.isArray(params) ? params.length : 0} arg(s)) threw an exception. The exception contained this information: wrong arity.`
          } else {
            try {
              result = this.handle(method, params.slice(1))
            } catch (e) {
              error = `rpclib: server could not find function '${method}' with argument count ${params.length}.`
              if (!(e instanceof UnknownMethod)) error = String(e)
            }
          }
          s.write(encode([1, id, error, result]))
        }
      } catch {
        s.destroy()
      }
    })()
  }

  private handle(method: string, a: unknown[]): unknown {
    switch (method) {
      case 'version':
        return ok('0.9.15')
      case 'get_available_maps':
        return ok(['/Game/Carla/Maps/Town01', '/Game/Carla/Maps/Town10HD_Opt'])
      case 'load_new_episode':
        setTimeout(() => (this.episodeId++, (this.settings = SETTINGS_DEFAULT.slice())), 20)
        return okVoid()
      case 'get_episode_info':
        return ok([this.episodeId, [this.token(1)]])
      case 'get_episode_settings':
        return ok(this.settings)
      case 'set_episode_settings':
        this.settings = a[0] as unknown[]
        return ok(this.frame + 1)
      case 'get_weather_parameters':
        return ok(WEATHER)
      case 'set_weather_parameters':
        return okVoid()
      case 'get_map_info':
        return ok([
          'Town10HD_Opt',
          Array.from({ length: 8 }, (_, i) => [
            [i * 10, 0, 0.5],
            [0, 0, 0],
          ]),
        ])
      case 'get_actor_definitions':
        return ok(DEFINITIONS)
      case 'spawn_actor':
        return ok(this.spawn(a[0] as FakeActor['description'], a[1] as FakeActor['transform'], 0))
      case 'spawn_actor_with_parent':
        return ok(this.spawn(a[0] as FakeActor['description'], a[1] as FakeActor['transform'], a[2] as number))
      case 'destroy_actor':
        return ok(this.destroy(a[0] as number))
      case 'get_sensor_token':
        return ok([this.token(a[0] as number)])
      case 'get_actors_by_id':
        return ok(
          (a[0] as number[]).flatMap((id) => {
            const x = this.actors.get(id)
            return x?.alive ? [this.actorStruct(x)] : []
          }),
        )
      case 'tick_cue': {
        const f = ++this.frame
        setImmediate(() => this.broadcast(f))
        return ok(f)
      }
      case 'apply_batch': {
        const out = (a[0] as unknown[]).map((cmd) => {
          const [idx, p] = (cmd as [[number, unknown[]]])[0]
          if (idx === 0) return [[1, this.spawn(p[0] as FakeActor['description'], p[1] as FakeActor['transform'], 0)[0]]]
          if (idx === 1) return this.destroy(p[0] as number) ? [[1, p[0]]] : [[0, ['actor not found']]]
          return [[0, [`command ${idx} not supported by the fake`]]]
        })
        return out
      }
      default:
        throw new UnknownMethod()
    }
  }

  private spawn(description: FakeActor['description'], transform: FakeActor['transform'], parentId: number): unknown[] {
    const id = this.nextActor++
    const sensor = String(description[1]).startsWith('sensor.')
    const actor: FakeActor = { id, parentId, description, transform, streamId: sensor ? this.nextStream++ : 0, alive: true }
    this.actors.set(id, actor)
    return this.actorStruct(actor)
  }

  private actorStruct(a: FakeActor): unknown[] {
    const vehicle = String(a.description[1]).startsWith('vehicle.')
    const bbox = vehicle
      ? [
          [0, 0, 0.7],
          [2.3, 1, 0.75],
          [0, 0, 0],
        ]
      : [
          [0, 0, 0],
          [0, 0, 0],
          [0, 0, 0],
        ]
    return [a.id, a.parentId, a.description, bbox, new Uint8Array(vehicle ? [14] : []), a.streamId ? this.token(a.streamId) : new Uint8Array()]
  }

  private destroy(id: number): boolean {
    const a = this.actors.get(id)
    if (!a || !a.alive) return false
    a.alive = false
    for (const s of this.subscribers.get(a.streamId) ?? []) s.destroy()
    return true
  }

  private onStream(s: net.Socket): void {
    this.sockets.add(s)
    s.on('close', () => this.sockets.delete(s))
    s.on('error', () => {})
    s.once('data', (b: Buffer) => {
      const id = b.readUInt32LE(0)
      const list = this.subscribers.get(id) ?? []
      list.push(s)
      this.subscribers.set(id, list)
    })
  }

  private broadcast(frame: number): void {
    for (const [streamId, socks] of this.subscribers) {
      if (this.muteSensors && streamId !== 1) continue
      const payload = streamId === 1 ? this.worldState(frame) : this.image(frame, streamId)
      const len = Buffer.alloc(4)
      len.writeUInt32LE(payload.length, 0)
      for (const s of socks) if (!s.destroyed) s.write(Buffer.concat([len, payload]))
    }
  }

  private header(type: number, frame: number): Buffer {
    const h = Buffer.alloc(48)
    h.writeBigUInt64LE(BigInt(type), 0)
    h.writeBigUInt64LE(BigInt(frame), 8)
    h.writeDoubleLE(frame * 0.05, 16)
    return h
  }

  private worldState(frame: number): Buffer {
    const alive = this.aliveActors
    const b = Buffer.alloc(36 + alive.length * 119)
    b.writeBigUInt64LE(BigInt(this.episodeId), 0)
    b.writeFloatLE(0.05, 16)
    alive.forEach((a, i) => {
      const o = 36 + i * 119
      b.writeUInt32LE(a.id, o)
      b[o + 4] = 1
      const [loc, rot] = a.transform
      ;[...loc, ...rot].forEach((v, k) => b.writeFloatLE(v, o + 5 + k * 4))
    })
    return Buffer.concat([this.header(16, frame), b])
  }

  private image(frame: number, streamId: number): Buffer {
    const sub = Buffer.alloc(12)
    sub.writeUInt32LE(this.w, 0)
    sub.writeUInt32LE(this.h, 4)
    sub.writeFloatLE(90, 8)
    const px = Buffer.alloc(this.w * this.h * 4, (frame + streamId) & 0xff)
    return Buffer.concat([this.header(13, frame), sub, px])
  }
}

class UnknownMethod extends Error {}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)))
}

const attr = (id: string, type: number, value: string): unknown[] => [id, type, value, [], true, false]
const DEFINITIONS = [
  [1, 'vehicle.tesla.model3', 'vehicle,car', [attr('role_name', 4, 'autopilot'), attr('color', 5, '0,0,0')]],
  [2, 'vehicle.audi.tt', 'vehicle,car', [attr('role_name', 4, 'autopilot')]],
  [3, 'walker.pedestrian.0001', 'walker', [attr('role_name', 4, 'pedestrian')]],
  [
    4,
    'sensor.camera.rgb',
    'sensor,camera',
    [attr('image_size_x', 2, '800'), attr('image_size_y', 2, '600'), attr('fov', 3, '90'), attr('role_name', 4, 'front')],
  ],
  [5, 'sensor.camera.depth', 'sensor,camera', [attr('image_size_x', 2, '800'), attr('image_size_y', 2, '600'), attr('fov', 3, '90')]],
  [6, 'sensor.camera.semantic_segmentation', 'sensor,camera', [attr('image_size_x', 2, '800'), attr('image_size_y', 2, '600'), attr('fov', 3, '90')]],
]
