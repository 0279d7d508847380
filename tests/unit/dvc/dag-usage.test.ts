/** dvcAdd and mlflowLogDataset wire into a DAG: the version's output feeds the MLflow step (type-checked by tsc). */
import { describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/index.ts'
import { dvcAdd } from '../../../operators/dvc/index.ts'
import { mlflowLogDataset } from '../../../operators/mlflow/index.ts'

describe('dvc.add and mlflow.log_dataset in a DAG', () => {
  it('the version output is the MLflow step input, and both carry their operator names', () => {
    const dag = defineDag({ id: 'version_and_register' }, (d) => {
      const build = d.task('build', () => ({ dir: '/data/build/carla' }))
      const ver = d.task('version', dvcAdd({ repo: 'registry', path: 'carla', source: build.out.dir, dataset: 'carla', remote: { url: '/srv/dvc' } }))
      d.task(
        'register',
        mlflowLogDataset({ version: ver.out, params: { recipe: 'weather_v1' }, metrics: { frames: 10 } }, { trackingUri: undefined }),
      )
    })
    const version = dag.tasks.get('version')!
    expect(version.operator).toBe('dvc.add')
    expect(version.upstream).toEqual(['build'])
    const register = dag.tasks.get('register')!
    expect(register.operator).toBe('mlflow.log_dataset')
    expect(register.upstream).toEqual(['version'])
    expect(register.inputs).toMatchObject({ version: { $ref: { task: 'version', path: [] } }, params: { recipe: 'weather_v1' } })
  })
})
