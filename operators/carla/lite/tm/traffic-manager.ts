/**
 * carla-lite's Traffic Manager: registered vehicles follow their lane down the straight road at a seeded,
 * per-vehicle speed, keep a gap to the vehicle ahead, and wrap around at the road's ends. No junctions, no lane
 * changes, no traffic lights; enough for NPCs that visibly move from frame to frame.
 *
 * In synchronous mode vehicles advance only on synchronous_tick (which a client calls after each world tick,
 * as with CARLA's TM); in asynchronous mode they advance on every world tick.
 */
import type { Engine } from '../engine.ts'
import type { SimActor } from '../world/actor.ts'
import { laneCentres } from '../world/road-map.ts'
import { idleControl } from '../wire/carla-structs.ts'

const SPEED_LIMIT = 50 / 3.6 // m/s; also what the world state reports
const LATERAL_RATE = 1 // m/s towards the lane centre

interface Driven {
  /** Per-vehicle speed factor around the global one, from the seed and the actor id. */
  jitter: number
  speedDifference: number | null
}

export class TrafficManager {
  synchronous = false
  seed = 0
  globalSpeedDifference = 30 // %, CARLA's default: 30% under the limit
  globalDistance = 2.5 // m
  private readonly vehicles = new Map<number, Driven>()

  constructor(private readonly engine: Engine) {
    engine.tickHooks.push((dt) => {
      if (!this.synchronous) this.advance(dt)
    })
    // A new episode destroys every vehicle; the registrations go with them.
    engine.episodeHooks.push(() => this.vehicles.clear())
  }

  register(ids: number[]): void {
    for (const id of ids) {
      const a = this.engine.world.get(id)
      if (!a || a.info?.kind !== 'vehicle') continue
      a.tmDriven = true
      this.vehicles.set(id, { jitter: jitterFor(this.seed, id), speedDifference: null })
    }
  }

  unregister(ids: number[]): void {
    for (const id of ids) {
      const a = this.engine.world.get(id)
      if (a) {
        // Released vehicles stop where they are; otherwise the kinematic model would keep applying the TM's
        // last throttle and they would drive on unsupervised.
        a.tmDriven = false
        a.control = idleControl()
        a.speed = 0
        a.velocity = { x: 0, y: 0, z: 0 }
      }
      this.vehicles.delete(id)
    }
  }

  setSeed(seed: number): void {
    this.seed = seed
    for (const [id, d] of this.vehicles) d.jitter = jitterFor(seed, id)
  }

  setSpeedDifference(id: number, percent: number): void {
    const d = this.vehicles.get(id)
    if (d) d.speedDifference = percent
  }

  reset(): void {
    this.unregister([...this.vehicles.keys()])
    this.synchronous = false
  }

  get count(): number {
    return this.vehicles.size
  }

  /** Moves every registered vehicle by dt seconds. */
  advance(dt: number): void {
    const world = this.engine.world
    const map = world.map
    const lanes = laneCentres(map)
    const cars: { a: SimActor; d: Driven; lane: { y: number; yaw: number } }[] = []
    for (const [id, d] of this.vehicles) {
      const a = world.get(id)
      if (!a) {
        this.vehicles.delete(id)
        continue
      }
      if (a.parentId) continue
      const y = a.transform.location.y
      const lane = lanes.reduce((best, l) => (Math.abs(l.y - y) < Math.abs(best.y - y) ? l : best), lanes[0])
      cars.push({ a, d, lane })
    }
    const half = map.halfLength
    for (const car of cars) {
      const { a, d, lane } = car
      const dir = lane.yaw === 0 ? 1 : -1
      const want = SPEED_LIMIT * (1 - (d.speedDifference ?? this.globalSpeedDifference) / 100) * (1 + d.jitter)
      // Gap to the nearest vehicle ahead in the same lane (any vehicle, driven or not).
      let gap = Infinity
      for (const other of world.actors.values()) {
        if (other === a || other.info?.kind !== 'vehicle' || other.parentId) continue
        if (Math.abs(other.transform.location.y - lane.y) > map.laneWidth / 2) continue
        const ahead = (other.transform.location.x - a.transform.location.x) * dir
        if (ahead > 0) gap = Math.min(gap, ahead - a.box.extent.x - other.box.extent.x)
      }
      const room = Math.max(0, (gap - this.globalDistance) / Math.max(dt, 1e-3))
      const speed = Math.max(0, Math.min(want, room))
      let x = a.transform.location.x + dir * speed * dt
      if (x > half) x -= 2 * half
      if (x < -half) x += 2 * half
      const dy = lane.y - a.transform.location.y
      const y = a.transform.location.y + Math.sign(dy) * Math.min(Math.abs(dy), LATERAL_RATE * dt)
      a.transform = { location: { x, y, z: a.transform.location.z }, rotation: { pitch: 0, yaw: lane.yaw, roll: 0 } }
      a.speed = speed
      a.velocity = { x: dir * speed, y: 0, z: 0 }
      a.control = {
        throttle: speed < want ? 0 : 0.5,
        steer: 0,
        brake: speed < want ? 0.5 : 0,
        handBrake: false,
        reverse: false,
        manualGearShift: false,
        gear: 1,
      }
    }
  }
}

function jitterFor(seed: number, id: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(id, 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0
  return (((h ^ (h >>> 16)) >>> 0) / 4294967296 - 0.5) * 0.2
}
