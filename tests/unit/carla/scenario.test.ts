import { describe, expect, it } from 'vitest'
import { parseScenario, resolveWeather, scenarioMatrix, ScenarioError, shardName } from '../../../operators/carla/scenario.ts'

const base = {
  map: 'Town10HD_Opt',
  sensors: [{ name: 'rgb', blueprint: 'sensor.camera.rgb', attributes: { image_size_x: 1280, image_size_y: 720, fov: 90 } }],
  frames: 10,
}

function fieldOf(input: unknown): string {
  try {
    parseScenario(input)
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError)
    expect((e as ScenarioError).nonRetryable).toBe(true)
    return (e as ScenarioError).field
  }
  throw new Error('expected the scenario to be rejected')
}

describe('scenario spec', () => {
  it('applies defaults', () => {
    const s = parseScenario(base)
    expect(s).toMatchObject({
      weather: 'ClearNoon',
      fixedDelta: 0.05,
      seed: 0,
      warmupTicks: 10,
      format: 'png',
      npcs: { vehicles: 0, pedestrians: 0 },
    })
    expect(s.ego).toEqual({ blueprint: 'vehicle.tesla.model3', spawn: 0 })
    expect(s.sensors[0]!.transform.location).toEqual({ x: 1.5, y: 0, z: 2.4 })
    expect(shardName(s)).toBe('Town10HD_Opt__ClearNoon__seed0')
  })

  it('rejects bad specs naming the field', () => {
    expect(fieldOf({ ...base, fixedDelta: 0.2 })).toBe('fixedDelta')
    expect(fieldOf({ ...base, frames: 0 })).toBe('frames')
    expect(fieldOf({ ...base, weather: 'Sunny' })).toBe('weather')
    expect(fieldOf({ ...base, sensors: [] })).toBe('sensors')
    expect(fieldOf({ ...base, sensors: [{ name: 'x', blueprint: 'camera.rgb' }] })).toBe('sensors.0.blueprint')
    expect(fieldOf({ ...base, sensors: [base.sensors[0], base.sensors[0]] })).toBe('sensors.1.name')
    expect(fieldOf({ ...base, npcs: { vehicles: -1 } })).toBe('npcs.vehicles')
    expect(fieldOf({ ...base, format: 'jpeg' })).toBe('format')
    expect(fieldOf({ ...base, labelCamera: 'nope' })).toBe('labelCamera')
    expect(fieldOf({ ...base, sensors: [...base.sensors, { name: 'lidar', blueprint: 'sensor.lidar.ray_cast' }], labelCamera: 'lidar' })).toBe(
      'labelCamera',
    )
    expect(fieldOf({ ...base, extra: 1 })).toBe('(root)')
    expect(fieldOf({ ...base, ego: { spawn: { location: { x: 1, y: 2 } } } })).toBe('ego.spawn')
  })

  it('accepts weather as all 14 parameters, and rejects a partial set', () => {
    const w = resolveWeather(parseScenario({ ...base, weather: 'HardRainNoon' }).weather)
    expect(Object.keys(w)).toHaveLength(14)
    expect(parseScenario({ ...base, weather: w }).weather).toEqual(w)
    const { dust_storm: _, ...partial } = w
    expect(fieldOf({ ...base, weather: partial })).toBe('weather')
  })

  it('scenarioMatrix: one validated spec per map × weather × seed, with distinct shard names', () => {
    const specs = scenarioMatrix({
      ...base,
      maps: ['Town01', 'Town03'],
      weathers: ['ClearNoon', 'WetNoon', resolveWeather('ClearNight')],
      seeds: [1, 2],
    })
    expect(specs).toHaveLength(12)
    expect(new Set(specs.map((s) => s.name)).size).toBe(12)
    expect(specs[0]).toMatchObject({ map: 'Town01', weather: 'ClearNoon', seed: 1, name: 'Town01__ClearNoon__seed1' })
    expect(specs.find((s) => s.name === 'Town03__weather2__seed2')).toBeDefined()
    expect(() => scenarioMatrix({ ...base, maps: [], weathers: ['ClearNoon'], seeds: [0] })).toThrow(ScenarioError)
    // Weather names arrive as plain strings from DAG params; an unknown one is rejected naming the field.
    const fromParams: string[] = ['WetNoon', 'Sunny']
    expect(() => scenarioMatrix({ ...base, maps: ['Town01'], weathers: fromParams, seeds: [0] })).toThrow(/'weather'/)
    expect(() => scenarioMatrix({ ...base, frames: -1, maps: ['Town01'], weathers: ['ClearNoon'], seeds: [0] })).toThrow(/'frames'/)
  })
})
