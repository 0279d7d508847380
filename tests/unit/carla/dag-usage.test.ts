/** carlaGenerate() is usable as a mapped task over a plan's output, with scenarioMatrix building the plan. */
import { describe, expect, it } from 'vitest'
import { defineDag, z } from '../../../runtime/index.ts'
import { carlaGenerate, scenarioMatrix, type CarlaShardItem } from '../../../operators/carla/index.ts'

const sensors = [{ name: 'rgb', blueprint: 'sensor.camera.rgb', attributes: { image_size_x: 1280, image_size_y: 720 } }]

describe('carlaGenerate in a DAG', () => {
  it('maps over scenario items and over bare scenarios (type-checked by tsc, wired by defineDag)', () => {
    const dag = defineDag({ id: 'carla_sweep', params: z.object({ towns: z.array(z.string()).default(['Town01']) }) }, (d) => {
      const plan = d.task('plan', ({ params }): CarlaShardItem[] =>
        scenarioMatrix({ maps: params.towns, weathers: ['ClearNoon'], seeds: [1, 2], sensors, frames: 10 }).map((scenario) => ({
          scenario,
          outDir: 'datasets/carla',
        })),
      )
      d.map('simulate', plan.out, carlaGenerate(), { pool: 'gpu' })
      const bare = d.task('plan_bare', ({ params }) => scenarioMatrix({ maps: params.towns, weathers: ['WetNoon'], seeds: [3], sensors, frames: 10 }))
      d.map('simulate_bare', bare.out, carlaGenerate(), { timeout: '1h' })
    })
    const simulate = dag.tasks.get('simulate')!
    expect(simulate.upstream).toEqual(['plan'])
    expect(simulate.settings.pool).toBe('gpu')
    expect(simulate.operator).toBe('carla.generate')
    expect(typeof simulate.run).toBe('function')
    const bareTask = dag.tasks.get('simulate_bare')!
    expect(bareTask.upstream).toEqual(['plan_bare'])
    // The operator suggests the gpu pool; the DAG's own options are added to it.
    expect(bareTask.settings).toMatchObject({ pool: 'gpu', timeout: '1h' })
  })
})
