/**
 * carla-lite's actor record and the wire views derived from it (rpc Actor, world-observer state).
 */
import type { ActorDescription, ActorWire, VehicleControl } from '../wire/carla-structs.ts'
import type { ActorDynamicState } from '../stream/world-state.ts'
import type { BlueprintInfo } from './blueprints.ts'
import { compose, roundF32, vec, type BoundingBox, type Transform, type Vec3 } from './geom.ts'

export interface CameraSpec {
  width: number
  height: number
  fov: number
  /** Seconds between images; 0 = every frame. */
  sensorTick: number
}

export interface SimActor {
  id: number
  parentId: number
  description: ActorDescription
  info: BlueprintInfo | null
  box: BoundingBox
  tags: Uint8Array
  /** 0 for actors without a stream. */
  streamId: number
  token: Uint8Array
  /** World transform, or the transform relative to the parent while attached. */
  transform: Transform
  velocity: Vec3
  /** Last applied control (reported in the world state, integrated by kinematics). */
  control: VehicleControl | null
  /** Forward speed, m/s, for the simple kinematic model. */
  speed: number
  /** Set by the Traffic Manager while it drives this vehicle. */
  tmDriven: boolean
  autopilot: boolean
  /** Body colour 0–255, for vehicles and walkers. */
  color: [number, number, number]
  camera: CameraSpec | null
}

export function attributeValue(a: SimActor, id: string): string | undefined {
  return a.description.attributes.find((x) => x.id === id)?.value
}

export function worldTransform(a: SimActor, byId: ReadonlyMap<number, SimActor>): Transform {
  if (!a.parentId) return a.transform
  const parent = byId.get(a.parentId)
  return parent ? compose(worldTransform(parent, byId), a.transform) : a.transform
}

export function toWire(a: SimActor): ActorWire {
  return { id: a.id, parentId: a.parentId, description: a.description, box: a.box, semanticTags: a.tags, streamToken: a.token }
}

export function dynamicState(a: SimActor, byId: ReadonlyMap<number, SimActor>): ActorDynamicState {
  return {
    id: a.id,
    transform: roundF32(worldTransform(a, byId)),
    velocity: a.velocity,
    angularVelocity: vec(),
    acceleration: vec(),
    control: a.info?.kind === 'vehicle' ? (a.control ?? undefined) : undefined,
    speedLimit: a.info?.kind === 'vehicle' ? 50 : undefined,
  }
}
