/**
 * Server-side codecs for CARLA's positional structs (docs/carla-protocol.md §3). Written independently of the client's
 * codecs on purpose: both are checked against the reference, so a shared misreading cannot hide.
 */
import type { BoundingBox, Rotation, Transform, Vec3 } from '../world/geom.ts'
import { f32, f64, toArr, toBool, toNum, toStr, type Wire } from './msgpack-wire.ts'

export const encodeVec = (v: Vec3): Wire => [f32(v.x), f32(v.y), f32(v.z)]
export const encodeRot = (r: Rotation): Wire => [f32(r.pitch), f32(r.yaw), f32(r.roll)]
export const encodeTransform = (t: Transform): Wire => [encodeVec(t.location), encodeRot(t.rotation)]
export const encodeBox = (b: BoundingBox): Wire => [encodeVec(b.location), encodeVec(b.extent), encodeRot(b.rotation)]

export function decodeVec(v: unknown, what: string): Vec3 {
  const a = toArr(v, what, 3)
  return { x: toNum(a[0], `${what}.x`), y: toNum(a[1], `${what}.y`), z: toNum(a[2], `${what}.z`) }
}

export function decodeTransform(v: unknown, what = 'transform'): Transform {
  const a = toArr(v, what, 2)
  const r = decodeVec(a[1], `${what}.rotation`)
  return { location: decodeVec(a[0], `${what}.location`), rotation: { pitch: r.x, yaw: r.y, roll: r.z } }
}

/** ActorAttributeType (rpc/ActorAttributeType.h). */
export const AttrType = { Bool: 1, Int: 2, Float: 3, String: 4, RGBColor: 5 } as const
export type AttrType = (typeof AttrType)[keyof typeof AttrType]

export interface AttributeDef {
  id: string
  type: AttrType
  value: string
  recommended: string[]
  modifiable: boolean
  restrictToRecommended: boolean
}

export interface ActorDefinition {
  uid: number
  id: string
  tags: string
  attributes: AttributeDef[]
}

export interface AttributeValue {
  id: string
  type: AttrType
  value: string
}

export interface ActorDescription {
  uid: number
  id: string
  attributes: AttributeValue[]
}

export const encodeDefinition = (d: ActorDefinition): Wire => [
  d.uid,
  d.id,
  d.tags,
  d.attributes.map((a) => [a.id, a.type, a.value, a.recommended, a.modifiable, a.restrictToRecommended]),
]

export const encodeDescription = (d: ActorDescription): Wire => [d.uid, d.id, d.attributes.map((a) => [a.id, a.type, a.value])]

export function decodeDescription(v: unknown): ActorDescription {
  const a = toArr(v, 'ActorDescription', 3)
  const attrs = toArr(a[2], 'ActorDescription.attributes').map((x, i) => {
    const t = toArr(x, `attribute ${i}`, 3)
    return { id: toStr(t[0], 'attribute id'), type: toNum(t[1], 'attribute type') as AttrType, value: toStr(t[2], 'attribute value') }
  })
  return { uid: toNum(a[0], 'ActorDescription.uid'), id: toStr(a[1], 'ActorDescription.id'), attributes: attrs }
}

/** rpc/Actor.h: [id, parent_id, description, bounding_box, semantic_tags:bin, stream_token:bin]. */
export interface ActorWire {
  id: number
  parentId: number
  description: ActorDescription
  box: BoundingBox
  semanticTags: Uint8Array
  streamToken: Uint8Array
}

export const encodeActor = (a: ActorWire): Wire => [
  a.id,
  a.parentId,
  encodeDescription(a.description),
  encodeBox(a.box),
  a.semanticTags,
  a.streamToken,
]

/** Only the id matters to the Traffic Manager; the rest is checked for shape. */
export function decodeActorId(v: unknown): number {
  return toNum(toArr(v, 'Actor', 6)[0], 'Actor.id')
}

export interface EpisodeSettings {
  synchronousMode: boolean
  noRenderingMode: boolean
  /** null = variable time step. */
  fixedDeltaSeconds: number | null
  substepping: boolean
  maxSubstepDeltaTime: number
  maxSubsteps: number
  maxCullingDistance: number
  deterministicRagdolls: boolean
  tileStreamDistance: number
  actorActiveDistance: number
  spectatorAsEgo: boolean
}

export const defaultSettings = (): EpisodeSettings => ({
  synchronousMode: false,
  noRenderingMode: false,
  fixedDeltaSeconds: null,
  substepping: true,
  maxSubstepDeltaTime: 0.01,
  maxSubsteps: 10,
  maxCullingDistance: 0,
  deterministicRagdolls: true,
  tileStreamDistance: 3000,
  actorActiveDistance: 2000,
  spectatorAsEgo: true,
})

export const encodeSettings = (s: EpisodeSettings): Wire => [
  s.synchronousMode,
  s.noRenderingMode,
  s.fixedDeltaSeconds === null ? [false] : [true, f64(s.fixedDeltaSeconds)],
  s.substepping,
  f64(s.maxSubstepDeltaTime),
  s.maxSubsteps,
  f32(s.maxCullingDistance),
  s.deterministicRagdolls,
  f32(s.tileStreamDistance),
  f32(s.actorActiveDistance),
  s.spectatorAsEgo,
]

export function decodeSettings(v: unknown): EpisodeSettings {
  const a = toArr(v, 'EpisodeSettings', 11)
  const fixed = toArr(a[2], 'fixed_delta_seconds', 1)
  return {
    synchronousMode: toBool(a[0], 'synchronous_mode'),
    noRenderingMode: toBool(a[1], 'no_rendering_mode'),
    fixedDeltaSeconds: toBool(fixed[0], 'fixed_delta_seconds.has_value') ? toNum(fixed[1], 'fixed_delta_seconds') : null,
    substepping: toBool(a[3], 'substepping'),
    maxSubstepDeltaTime: toNum(a[4], 'max_substep_delta_time'),
    maxSubsteps: toNum(a[5], 'max_substeps'),
    maxCullingDistance: toNum(a[6], 'max_culling_distance'),
    deterministicRagdolls: toBool(a[7], 'deterministic_ragdolls'),
    tileStreamDistance: toNum(a[8], 'tile_stream_distance'),
    actorActiveDistance: toNum(a[9], 'actor_active_distance'),
    spectatorAsEgo: toBool(a[10], 'spectator_as_ego'),
  }
}

/** rpc/WeatherParameters.h order; all float32. */
export const WEATHER_FIELDS = [
  'cloudiness',
  'precipitation',
  'precipitationDeposits',
  'windIntensity',
  'sunAzimuthAngle',
  'sunAltitudeAngle',
  'fogDensity',
  'fogDistance',
  'fogFalloff',
  'wetness',
  'scatteringIntensity',
  'mieScatteringScale',
  'rayleighScatteringScale',
  'dustStorm',
] as const
export type Weather = Record<(typeof WEATHER_FIELDS)[number], number>

/** CARLA's "Default" preset values (ClearNoon-like). */
export const defaultWeather = (): Weather => ({
  cloudiness: 5,
  precipitation: 0,
  precipitationDeposits: 0,
  windIntensity: 10,
  sunAzimuthAngle: -1,
  sunAltitudeAngle: 45,
  fogDensity: 2,
  fogDistance: 0.75,
  fogFalloff: 0.1,
  wetness: 0,
  scatteringIntensity: 1,
  mieScatteringScale: 0.03,
  rayleighScatteringScale: 0.0331,
  dustStorm: 0,
})

export const encodeWeather = (w: Weather): Wire => WEATHER_FIELDS.map((k) => f32(w[k]))

export function decodeWeather(v: unknown): Weather {
  const a = toArr(v, 'WeatherParameters', WEATHER_FIELDS.length)
  const w = {} as Weather
  WEATHER_FIELDS.forEach((k, i) => (w[k] = toNum(a[i], k)))
  return w
}

export interface VehicleControl {
  throttle: number
  steer: number
  brake: number
  handBrake: boolean
  reverse: boolean
  manualGearShift: boolean
  gear: number
}

export const idleControl = (): VehicleControl => ({
  throttle: 0,
  steer: 0,
  brake: 0,
  handBrake: false,
  reverse: false,
  manualGearShift: false,
  gear: 0,
})

export function decodeControl(v: unknown): VehicleControl {
  const a = toArr(v, 'VehicleControl', 7)
  return {
    throttle: toNum(a[0], 'throttle'),
    steer: toNum(a[1], 'steer'),
    brake: toNum(a[2], 'brake'),
    handBrake: toBool(a[3], 'hand_brake'),
    reverse: toBool(a[4], 'reverse'),
    manualGearShift: toBool(a[5], 'manual_gear_shift'),
    gear: toNum(a[6], 'gear'),
  }
}

/** Response<T> (rpc/Response.h): a variant packed as [index, value]; index 0 is the error. */
export const ok = (value: Wire): Wire => [[1, value]]
export const fail = (message: string): Wire => [[0, [message]]]
/** Response<void>: an optional<ResponseError> packed as [false] / [true, error]. */
export const okVoid = (): Wire => [[false]]
export const failVoid = (message: string): Wire => [[true, [message]]]
