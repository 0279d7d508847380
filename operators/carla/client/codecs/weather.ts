/**
 * WeatherParameters (`rpc/WeatherParameters.h`): 14 float32 values in a fixed order. `dust_storm` is a float
 * since 0.9.14.
 */
import { f32, type Wire } from '../msgpack-encode.ts'
import { arr, num } from './read.ts'

/** Wire order; the names are CARLA's Python attribute names, which scenario files use too. */
export const WEATHER_FIELDS = [
  'cloudiness',
  'precipitation',
  'precipitation_deposits',
  'wind_intensity',
  'sun_azimuth_angle',
  'sun_altitude_angle',
  'fog_density',
  'fog_distance',
  'fog_falloff',
  'wetness',
  'scattering_intensity',
  'mie_scattering_scale',
  'rayleigh_scattering_scale',
  'dust_storm',
] as const

export type WeatherField = (typeof WEATHER_FIELDS)[number]
export type WeatherParameters = Record<WeatherField, number>

export const encodeWeatherParameters = (w: WeatherParameters): Wire => WEATHER_FIELDS.map((k) => f32(w[k]))

export function decodeWeatherParameters(raw: unknown, what = 'WeatherParameters'): WeatherParameters {
  const a = arr(raw, what, WEATHER_FIELDS.length)
  const out = {} as WeatherParameters
  WEATHER_FIELDS.forEach((k, i) => (out[k] = num(a[i], `${what}.${k}`)))
  return out
}

/**
 * Named presets after CARLA's (ClearNoon, WetCloudySunset, …). The values are our approximations, not copied from
 * CARLA's source; rayleigh uses the documented default 0.0331.
 */
const base: WeatherParameters = {
  cloudiness: 5,
  precipitation: 0,
  precipitation_deposits: 0,
  wind_intensity: 10,
  sun_azimuth_angle: 0,
  sun_altitude_angle: 45,
  fog_density: 0,
  fog_distance: 0,
  fog_falloff: 0,
  wetness: 0,
  scattering_intensity: 1,
  mie_scattering_scale: 0.03,
  rayleigh_scattering_scale: 0.0331,
  dust_storm: 0,
}
export const WEATHER_PRESETS = {
  ClearNoon: base,
  CloudyNoon: { ...base, cloudiness: 60 },
  WetNoon: { ...base, precipitation_deposits: 50, wetness: 50 },
  SoftRainNoon: { ...base, cloudiness: 70, precipitation: 15, precipitation_deposits: 50, wind_intensity: 35, wetness: 50 },
  HardRainNoon: { ...base, cloudiness: 100, precipitation: 100, precipitation_deposits: 90, wind_intensity: 100, wetness: 100, fog_density: 7 },
  ClearSunset: { ...base, sun_altitude_angle: 15 },
  WetCloudySunset: { ...base, cloudiness: 60, precipitation_deposits: 50, sun_altitude_angle: 15, wetness: 50 },
  ClearNight: { ...base, sun_altitude_angle: -90, fog_density: 60, fog_distance: 75, fog_falloff: 0.1 },
  FoggyNoon: { ...base, cloudiness: 30, fog_density: 50, fog_distance: 10, fog_falloff: 0.5 },
  DustStorm: { ...base, cloudiness: 100, wind_intensity: 100, dust_storm: 100 },
} satisfies Record<string, WeatherParameters>
export type WeatherPresetName = keyof typeof WEATHER_PRESETS
