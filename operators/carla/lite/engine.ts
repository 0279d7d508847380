/**
 * The "game thread": one promise chain that runs RPC work and ticks in order, the clock that free-runs in
 * asynchronous mode, and the per-tick broadcast of the world state and camera images.
 *
 * As in CARLA, a synchronous-mode frame only advances on tick_cue; tick_cue answers current+1 at once and the tick
 * itself runs next on the chain, so any later RPC sees the new frame. In synchronous mode broadcasting waits for
 * slow readers (the next tick waits behind it); in asynchronous mode busy readers miss frames.
 */
import { dynamicState, worldTransform, type SimActor } from './world/actor.ts'
import { boxWorldCorners, roundF32, type Transform } from './world/geom.ts'
import { integrateControl } from './world/kinematics.ts'
import { WORLD_STREAM_ID, World } from './world/world.ts'
import type { EpisodeSettings } from './wire/carla-structs.ts'
import type { StreamServer } from './stream/stream-server.ts'
import { SensorType } from './stream/sensor-header.ts'
import { encodeWorldState } from './stream/world-state.ts'
import { CameraRenderer } from './render/camera-renderer.ts'
import type { BoxInstance, OutputKind } from './render/rasterize-box.ts'

const ASYNC_VARIABLE_PERIOD_MS = 50

export interface RenderStats {
  images: number
  renderMs: number
}

export class Engine {
  readonly stats: RenderStats = { images: 0, renderMs: 0 }
  /** Run after every tick's simulation step, before broadcasting (the TM drives here in async mode). */
  readonly tickHooks: ((dt: number) => void)[] = []
  readonly episodeHooks: (() => void)[] = []
  private chain: Promise<unknown> = Promise.resolve()
  private readonly renderers = new Map<number, CameraRenderer>()
  private readonly lastImage = new Map<number, number>()
  private timer: NodeJS.Timeout | null = null
  private asyncTickQueued = false
  private cuedTicks = 0
  private lastTickWall = performance.now()
  private closed = false

  constructor(
    readonly world: World,
    readonly streams: StreamServer,
    private readonly log: (msg: string) => void,
  ) {
    world.onStreamClosed = (streamId) => {
      streams.closeStream(streamId)
      for (const id of this.renderers.keys()) {
        if (!world.get(id)) {
          this.renderers.delete(id)
          this.lastImage.delete(id)
        }
      }
    }
    this.scheduleClock()
  }

  /** Runs fn on the game thread, after everything queued before it. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const next = this.chain.then(fn)
    this.chain = next.catch(() => undefined)
    return next
  }

  /** tick_cue: the frame the next world state will carry; the tick itself is queued right behind. */
  tickCue(): number {
    // Pipelined cues can run before the tick an earlier cue queued, so count the ticks already promised.
    const next = this.world.frame + ++this.cuedTicks
    void this.run(() => {
      this.cuedTicks--
      return this.tick(true)
    }).catch((err) => this.log(`tick failed: ${(err as Error).message}`))
    return next
  }

  applySettings(s: EpisodeSettings): number {
    this.world.settings = s
    this.scheduleClock()
    return this.world.frame
  }

  loadEpisode(map: string, resetSettings: boolean): void {
    this.world.loadEpisode(map, resetSettings)
    this.lastImage.clear()
    for (const hook of this.episodeHooks) hook()
    this.scheduleClock()
  }

  stop(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private scheduleClock(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.closed || this.world.settings.synchronousMode) return
    const fixed = this.world.settings.fixedDeltaSeconds
    const period = fixed ? Math.max(5, fixed * 1000) : ASYNC_VARIABLE_PERIOD_MS
    this.timer = setTimeout(() => {
      this.timer = null
      // A tick still in flight (slow renders) means this one is skipped, not queued up behind it.
      if (!this.asyncTickQueued) {
        this.asyncTickQueued = true
        void this.run(() => this.tick(false))
          .catch((err) => this.log(`tick failed: ${(err as Error).message}`))
          .finally(() => (this.asyncTickQueued = false))
      }
      this.scheduleClock()
    }, period)
    this.timer.unref?.()
  }

  private async tick(sync: boolean): Promise<void> {
    const w = this.world
    const now = performance.now()
    const wall = Math.min(0.1, Math.max(0.001, (now - this.lastTickWall) / 1000))
    this.lastTickWall = now
    const dt = w.settings.fixedDeltaSeconds ?? wall
    w.frame += 1
    w.elapsed += dt
    for (const a of w.actors.values()) integrateControl(a, dt)
    for (const hook of this.tickHooks) hook(dt)
    const state = w.pendingState
    w.pendingState = 0
    const sends: Promise<void>[] = []
    if (this.streams.hasSubscribers(WORLD_STREAM_ID)) {
      const actors = [...w.actors.values()].map((a) => dynamicState(a, w.actors))
      const msg = encodeWorldState({ frame: w.frame, timestamp: w.elapsed, episodeId: w.episodeId, deltaSeconds: dt, simulationState: state, actors })
      sends.push(this.streams.publish(WORLD_STREAM_ID, msg, sync))
    }
    if (!w.settings.noRenderingMode) sends.push(...this.renderCameras(sync))
    await Promise.all(sends)
  }

  private renderCameras(sync: boolean): Promise<void>[] {
    const w = this.world
    const sends: Promise<void>[] = []
    let boxes: BoxInstance[] | null = null
    for (const a of w.actors.values()) {
      if (!a.camera || !a.streamId || !this.streams.hasSubscribers(a.streamId)) continue
      // Async mode drops for busy readers anyway: do not spend a render on an image nobody can take.
      if (!sync && this.streams.allBusy(a.streamId)) continue
      const last = this.lastImage.get(a.id)
      if (a.camera.sensorTick > 0 && last !== undefined && w.elapsed - last < a.camera.sensorTick - 1e-6) continue
      this.lastImage.set(a.id, w.elapsed)
      boxes ??= this.collectBoxes()
      const pose = roundF32(worldTransform(a, w.actors))
      const t0 = performance.now()
      const { msg, release } = this.renderer(a).render(w.frame, w.elapsed, pose, w.map, w.weather, boxes)
      this.stats.renderMs += performance.now() - t0
      this.stats.images++
      sends.push(this.streams.publish(a.streamId, msg, sync, release))
    }
    return sends
  }

  private collectBoxes(): BoxInstance[] {
    const w = this.world
    const out: BoxInstance[] = []
    for (const a of w.actors.values()) {
      if (a.info?.kind !== 'vehicle' && a.info?.kind !== 'walker') continue
      const t: Transform = roundF32(worldTransform(a, w.actors))
      out.push({ corners: boxWorldCorners(a.box, t), color: a.color, tag: a.info.tag })
    }
    return out
  }

  private renderer(a: SimActor): CameraRenderer {
    let r = this.renderers.get(a.id)
    if (!r) {
      const kind: OutputKind = a.info!.kind === 'depth' ? 'depth' : a.info!.kind === 'semantic' ? 'semantic' : 'rgb'
      const type = kind === 'depth' ? SensorType.Depth : kind === 'semantic' ? SensorType.SemanticSegmentation : SensorType.Rgb
      this.renderers.set(a.id, (r = new CameraRenderer(a.camera!, kind, type)))
    }
    return r
  }
}
