/**
 * Vehicles that are driven by ApplyVehicleControl move with a kinematic bicycle model. carla-lite has no
 * physics engine; this is just enough for a controlled vehicle to go where its throttle and steering point.
 */
import type { SimActor } from './actor.ts'

const MAX_ACCEL = 4 // m/s² at full throttle
const MAX_BRAKE = 8 // m/s² at full brake
const DRAG = 0.05 // 1/s
const MAX_STEER_DEG = 70
const WHEELBASE = 2.8

export function integrateControl(a: SimActor, dt: number): void {
  if (a.info?.kind === 'walker' && !a.parentId) return glide(a, dt)
  const c = a.control
  if (!c || a.tmDriven || a.parentId) return
  const dir = c.reverse ? -1 : 1
  let speed = a.speed
  speed += dir * MAX_ACCEL * c.throttle * dt
  const braking = (c.handBrake ? 1 : c.brake) * MAX_BRAKE * dt + DRAG * Math.abs(speed) * dt
  speed = Math.abs(speed) <= braking ? 0 : speed - Math.sign(speed) * braking
  a.speed = speed
  if (speed === 0) {
    a.velocity = { x: 0, y: 0, z: 0 }
    return
  }
  const yawRate = (speed * Math.tan((c.steer * MAX_STEER_DEG * Math.PI) / 180)) / WHEELBASE // rad/s
  const yaw = a.transform.rotation.yaw + (yawRate * dt * 180) / Math.PI
  const rad = (yaw * Math.PI) / 180
  const vx = speed * Math.cos(rad),
    vy = speed * Math.sin(rad)
  a.velocity = { x: vx, y: vy, z: 0 }
  a.transform = {
    location: { x: a.transform.location.x + vx * dt, y: a.transform.location.y + vy * dt, z: a.transform.location.z },
    rotation: { ...a.transform.rotation, yaw },
  }
}

/** Walkers move at the velocity their last WalkerControl set (no AI controller, no animation). */
function glide(a: SimActor, dt: number): void {
  const v = a.velocity
  if (!v.x && !v.y) return
  const l = a.transform.location
  a.transform = {
    location: { x: l.x + v.x * dt, y: l.y + v.y * dt, z: l.z },
    rotation: { ...a.transform.rotation, yaw: (Math.atan2(v.y, v.x) * 180) / Math.PI },
  }
}
