/**
 * Turns WeatherParameters into the handful of numbers the shader needs. It is a look, not a physical sky: the sun's
 * altitude sets day and night, cloud and rain weaken direct light and grey the sky, fog blends towards a haze colour
 * with distance past fog_distance, and wetness darkens the road.
 */
import type { Weather } from '../wire/carla-structs.ts'
import type { Vec3 } from '../world/geom.ts'

export type Rgb = [number, number, number]

export interface Lighting {
  /** Unit vector towards the sun (world). */
  sun: Vec3
  direct: number
  ambient: number
  skyTop: Rgb
  skyHorizon: Rgb
  fogColor: Rgb
  /** Extinction per metre beyond fogStart. */
  fogK: number
  fogStart: number
  wet: number
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v)
const smooth = (a: number, b: number, v: number): number => {
  const t = clamp01((v - a) / (b - a))
  return t * t * (3 - 2 * t)
}
export const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]

export function lightingFor(w: Weather): Lighting {
  const alt = (w.sunAltitudeAngle * Math.PI) / 180
  const az = (w.sunAzimuthAngle * Math.PI) / 180
  const day = smooth(-8, 20, w.sunAltitudeAngle)
  const cloud = clamp01(w.cloudiness / 100)
  const rain = clamp01(w.precipitation / 100)
  const dusk = smooth(-6, 4, w.sunAltitudeAngle) * (1 - smooth(4, 18, w.sunAltitudeAngle))
  const overcast = clamp01(cloud * 0.9 + rain * 0.5)
  let skyTop = mix([60, 120, 205], [140, 145, 152], overcast)
  let skyHorizon = mix([175, 205, 235], [185, 186, 190], overcast)
  skyHorizon = mix(skyHorizon, [235, 150, 90], dusk * (1 - overcast))
  const night: Rgb = [6, 8, 18]
  skyTop = mix(night, skyTop, day)
  skyHorizon = mix([14, 16, 28], skyHorizon, day)
  const haze = clamp01(w.fogDensity / 100)
  return {
    sun: { x: Math.cos(alt) * Math.cos(az), y: Math.cos(alt) * Math.sin(az), z: Math.sin(alt) },
    direct: day * (1 - 0.8 * cloud) * (1 - 0.5 * rain),
    ambient: 0.06 + 0.42 * day * (1 - 0.3 * rain),
    skyTop,
    skyHorizon,
    fogColor: mix(skyHorizon, [200, 200, 205].map((c) => c * (0.1 + 0.9 * day)) as Rgb, 0.5),
    fogK: haze * 0.06 + rain * 0.004,
    fogStart: Math.max(0, w.fogDistance),
    wet: clamp01(w.wetness / 100) * 0.35 + clamp01(w.precipitationDeposits / 100) * 0.15,
  }
}

/** Fraction of fog colour at planar distance d. */
export function fogAmount(l: Lighting, d: number): number {
  return d <= l.fogStart ? 0 : 1 - Math.exp(-l.fogK * (d - l.fogStart))
}

/** Lambert + ambient brightness of a surface with world normal n. */
export function brightness(l: Lighting, n: Vec3): number {
  const ndl = n.x * l.sun.x + n.y * l.sun.y + n.z * l.sun.z
  return l.ambient + l.direct * (ndl > 0 ? ndl : 0)
}

/** Packs into a little-endian u32 laid out as BGRA bytes (UE FColor). */
export function bgra(c: Rgb): number {
  const r = Math.max(0, Math.min(255, Math.round(c[0])))
  const g = Math.max(0, Math.min(255, Math.round(c[1])))
  const b = Math.max(0, Math.min(255, Math.round(c[2])))
  return (b | (g << 8) | (r << 16) | (0xff << 24)) >>> 0
}
