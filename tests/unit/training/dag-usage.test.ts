/** dvcPull, trainingRun and trainingWebhook wire into a DAG: the pull's output is the training input (type-checked by tsc). */
import { describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/index.ts'
import { dvcPull } from '../../../operators/dvc/index.ts'
import { exampleTrainerCommand, trainingRun, trainingWebhook } from '../../../operators/training/index.ts'

describe('dvc.pull, training.run and training.webhook in a DAG', () => {
  it('the pulled version feeds the training run and the webhook, each with its operator name', () => {
    const dag = defineDag({ id: 'train_on_new_dataset' }, (d) => {
      const pull = d.task('pull', dvcPull({ repo: 'registry', dataset: 'carla', dest: '.forge/datasets/carla' }))
      d.task(
        'train',
        trainingRun(
          { command: exampleTrainerCommand(), dataset: pull.out, outputDir: '.forge/models/carla-prior', model: { name: 'carla-prior' } },
          { mlflow: { trackingUri: undefined } },
        ),
      )
      d.task('external', trainingWebhook({ url: 'https://trainer.example/api/train', dataset: pull.out }))
    })
    expect(dag.tasks.get('pull')!.operator).toBe('dvc.pull')
    const train = dag.tasks.get('train')!
    expect(train.operator).toBe('training.run')
    expect(train.upstream).toEqual(['pull'])
    expect(train.inputs).toMatchObject({ dataset: { $ref: { task: 'pull', path: [] } }, model: { name: 'carla-prior' } })
    expect(dag.tasks.get('external')!).toMatchObject({ operator: 'training.webhook', upstream: ['pull'] })
  })
})
