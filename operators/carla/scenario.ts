/**
 * The scenario spec for one shard, as a zod schema: what to load, spawn and record. A bad spec is rejected with
 * the field named before anything touches the server, and non-retryably (retrying cannot fix a typo).
 */
import { z } from 'zod'
import { TaskFailure, safeSegment } from '../../runtime/index.ts'
import { WEATHER_FIELDS, WEATHER_PRESETS, type WeatherParameters, type WeatherPresetName } from './client/codecs/weather.ts'

const vec3 = z.object({ x: z.number(), y: z.number(), z: z.number() }).strict()
const rotation = z.object({ pitch: z.number(), yaw: z.number(), roll: z.number() }).strict()
export const transformSchema = z
  .object({
    location: vec3,
    rotation: rotation.default({ pitch: 0, yaw: 0, roll: 0 }),
  })
  .strict()

const presetNames = Object.keys(WEATHER_PRESETS) as [WeatherPresetName, ...WeatherPresetName[]]
const weatherParams = z
  .object(Object.fromEntries(WEATHER_FIELDS.map((k) => [k, z.number()])) as Record<(typeof WEATHER_FIELDS)[number], z.ZodNumber>)
  .strict()

const attributeValue = z.union([z.string(), z.number(), z.boolean()])

const sensorSchema = z
  .object({
    /** Folder name under frames/; also how labels refer to the camera. */
    name: z.string().regex(/^[a-z0-9_-]+$/, 'use lowercase letters, digits, _ and -'),
    blueprint: z.string().regex(/^sensor\./, "a sensor blueprint id starts with 'sensor.'"),
    attributes: z.record(z.string(), attributeValue).default({}),
    /** Mounting transform relative to the ego vehicle. */
    transform: transformSchema.default({ location: { x: 1.5, y: 0, z: 2.4 }, rotation: { pitch: 0, yaw: 0, roll: 0 } }),
  })
  .strict()

export const scenarioSchema = z
  .object({
    /** Shard name: the output folder and the result's `shard`; one folder name, never '.' or '..'. */
    name: z
      .string()
      .superRefine((name, ctx) => {
        try {
          safeSegment(name, 'scenario name')
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message, abort: true })
        }
      })
      .regex(/^[A-Za-z0-9_.-]+$/, { error: (iss) => `scenario name ${JSON.stringify(iss.input)} may hold only letters, digits, '_', '.' and '-'` })
      .optional(),
    /** A map name ('Town10HD_Opt') or a UE path ('/Game/Carla/Maps/Town10HD_Opt'). */
    map: z.string().min(1),
    weather: z.union([z.enum(presetNames), weatherParams]).default('ClearNoon'),
    ego: z
      .object({
        blueprint: z
          .string()
          .regex(/^vehicle\./)
          .default('vehicle.tesla.model3'),
        /** An index into MapInfo.recommended_spawn_points, or an explicit world transform. */
        spawn: z.union([z.number().int().min(0), transformSchema]).default(0),
      })
      .strict()
      .default({ blueprint: 'vehicle.tesla.model3', spawn: 0 }),
    sensors: z.array(sensorSchema).min(1),
    npcs: z
      .object({
        vehicles: z.number().int().min(0).max(500).default(0),
        pedestrians: z.number().int().min(0).max(500).default(0),
      })
      .strict()
      .default({ vehicles: 0, pedestrians: 0 }),
    frames: z.number().int().min(1),
    /** Seconds per tick; CARLA's docs keep physics stable only at ≤ 0.1 s. */
    fixedDelta: z.number().positive().max(0.1).default(0.05),
    seed: z.number().int().min(0).default(0),
    warmupTicks: z.number().int().min(0).default(10),
    format: z.enum(['png', 'raw']).default('png'),
    /** Which camera the labels are for (default: the first sensor.camera.rgb). */
    labelCamera: z.string().optional(),
    /** How long to wait for every sensor's frame F after tick_cue. */
    frameTimeoutMs: z.number().int().positive().default(10_000),
  })
  .strict()
  .superRefine((s, ctx) => {
    const names = new Set<string>()
    s.sensors.forEach((sensor, i) => {
      if (names.has(sensor.name)) ctx.addIssue({ code: 'custom', path: ['sensors', i, 'name'], message: `duplicate sensor name '${sensor.name}'` })
      names.add(sensor.name)
    })
    if (s.labelCamera !== undefined) {
      const cam = s.sensors.find((x) => x.name === s.labelCamera)
      if (!cam) ctx.addIssue({ code: 'custom', path: ['labelCamera'], message: `no sensor named '${s.labelCamera}'` })
      else if (!cam.blueprint.startsWith('sensor.camera.')) {
        ctx.addIssue({ code: 'custom', path: ['labelCamera'], message: `'${s.labelCamera}' is ${cam.blueprint}, not a camera` })
      }
    }
  })

export type ScenarioInput = z.input<typeof scenarioSchema>
export type Scenario = z.output<typeof scenarioSchema>
export type SensorSpec = Scenario['sensors'][number]

/** A bad spec: non-retryable, with the dotted path of the first bad field. */
export class ScenarioError extends TaskFailure {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, 'ScenarioError', true)
  }
}

export function parseScenario(input: unknown): Scenario {
  const r = scenarioSchema.safeParse(input)
  if (r.success) return r.data
  const issue = r.error.issues[0]!
  const field = issue.path.map(String).join('.') || '(root)'
  throw new ScenarioError(`scenario field '${field}': ${issue.message}`, field)
}

export function resolveWeather(w: Scenario['weather']): WeatherParameters {
  return typeof w === 'string' ? { ...WEATHER_PRESETS[w] } : { ...w }
}

/** A short, path-safe shard name derived from the spec when it has none. */
export function shardName(s: Scenario): string {
  if (s.name) return s.name
  const map = s.map.split('/').pop()!
  const weather = typeof s.weather === 'string' ? s.weather : 'custom'
  return `${map}__${weather}__seed${s.seed}`
}

export interface MatrixInput extends Omit<ScenarioInput, 'map' | 'weather' | 'seed' | 'name'> {
  maps: string[]
  /** Preset names (plain strings, e.g. from DAG params; an unknown one fails naming 'weather') or parameter sets. */
  weathers: Array<WeatherPresetName | (string & {}) | WeatherParameters>
  seeds: number[]
}

/**
 * One spec per map × weather × seed, each validated; use it as the list a mapped `simulate` task fans out over.
 * Custom weather objects are named weather0, weather1, … by their position.
 */
export function scenarioMatrix(m: MatrixInput): Scenario[] {
  const { maps, weathers, seeds, ...rest } = m
  if (maps.length === 0 || weathers.length === 0 || seeds.length === 0) {
    throw new ScenarioError(
      'scenarioMatrix needs at least one map, weather and seed',
      maps.length === 0 ? 'maps' : weathers.length === 0 ? 'weathers' : 'seeds',
    )
  }
  const out: Scenario[] = []
  for (const map of maps) {
    weathers.forEach((weather, wi) => {
      for (const seed of seeds) {
        const wname = typeof weather === 'string' ? weather : `weather${wi}`
        const name = `${map.split('/').pop()}__${wname}__seed${seed}`
        out.push(parseScenario({ ...rest, map, weather, seed, name }))
      }
    })
  }
  return out
}
