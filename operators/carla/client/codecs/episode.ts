/**
 * Episode structs: EpisodeInfo + Token (`rpc/EpisodeInfo.h`, `streaming/Token.h`), MapInfo (`rpc/MapInfo.h`) and
 * the 11-field EpisodeSettings of 0.9.15 (`rpc/EpisodeSettings.h` @9872e35c).
 */
import { f32, f64, type Wire } from '../msgpack-encode.ts'
import { decodeTransform, type Transform } from './geom.ts'
import { arr, bin, bool, num, str, u64 } from './read.ts'
import { CarlaProtocolError } from '../errors.ts'

export interface EpisodeInfo {
  /** A random 64-bit id in CARLA, so a bigint: it must compare exactly when we wait for a map change. */
  id: bigint
  /** The world observer's 24-byte stream token. */
  token: Uint8Array
}

export interface MapInfo {
  name: string
  recommendedSpawnPoints: Transform[]
}

export interface EpisodeSettings {
  synchronousMode: boolean
  noRenderingMode: boolean
  /** null = variable time step (packed as the optional `[false]`). */
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

/** The server's defaults, per the header; useful as a base when only sync mode and the step change. */
export const defaultEpisodeSettings = (): EpisodeSettings => ({
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

/** Token is `MSGPACK_DEFINE_ARRAY(_data)` around `array<unsigned char, 24>`: `[bin(24)]`. */
export const encodeToken = (token: Uint8Array): Wire => [token]

export function decodeToken(raw: unknown, what = 'Token'): Uint8Array {
  const data = bin(arr(raw, what, 1)[0], `${what}.data`)
  if (data.length !== 24) throw new CarlaProtocolError(`${what}: expected 24 bytes, got ${data.length}`)
  return data
}

export function decodeEpisodeInfo(raw: unknown, what = 'EpisodeInfo'): EpisodeInfo {
  const a = arr(raw, what, 2)
  return { id: u64(a[0], `${what}.id`), token: decodeToken(a[1], `${what}.token`) }
}

export const encodeEpisodeInfo = (e: EpisodeInfo): Wire => [e.id, encodeToken(e.token)]

export function decodeMapInfo(raw: unknown, what = 'MapInfo'): MapInfo {
  const a = arr(raw, what, 2)
  return {
    name: str(a[0], `${what}.name`),
    recommendedSpawnPoints: arr(a[1], `${what}.recommended_spawn_points`).map((t, i) => decodeTransform(t, `${what}.recommended_spawn_points[${i}]`)),
  }
}

/** Field order and C++ types matter: bool, bool, optional<double>, bool, double, int, float, bool, float, float, bool. */
export function encodeEpisodeSettings(s: EpisodeSettings): Wire {
  return [
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
}

export function decodeEpisodeSettings(raw: unknown, what = 'EpisodeSettings'): EpisodeSettings {
  const a = arr(raw, what, 11)
  const fixed = arr(a[2], `${what}.fixed_delta_seconds`, 1)
  return {
    synchronousMode: bool(a[0], `${what}.synchronous_mode`),
    noRenderingMode: bool(a[1], `${what}.no_rendering_mode`),
    fixedDeltaSeconds: bool(fixed[0], `${what}.fixed_delta_seconds[0]`) ? num(fixed[1], `${what}.fixed_delta_seconds[1]`) : null,
    substepping: bool(a[3], `${what}.substepping`),
    maxSubstepDeltaTime: num(a[4], `${what}.max_substep_delta_time`),
    maxSubsteps: num(a[5], `${what}.max_substeps`),
    maxCullingDistance: num(a[6], `${what}.max_culling_distance`),
    deterministicRagdolls: bool(a[7], `${what}.deterministic_ragdolls`),
    tileStreamDistance: num(a[8], `${what}.tile_stream_distance`),
    actorActiveDistance: num(a[9], `${what}.actor_active_distance`),
    spectatorAsEgo: bool(a[10], `${what}.spectator_as_ego`),
  }
}
