/** dvcPull, trainingRun and trainingWebhook wire into a DAG: the pull's output is the training input (type-checked by tsc). */
import { describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/index.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { dvcPull } from '../../../operators/dvc/index.ts'
import { exampleTrainerCommand, pullAndTrain, trainingRun, trainingWebhook } from '../../../operators/training/index.ts'

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

  it('pullAndTrain is one task, which a DAG can send to the Kubernetes executor with a GPU', () => {
    const dag = defineDag({ id: 'train_on_kubernetes' }, (d) => {
      d.task(
        'train',
        pullAndTrain({
          pull: { repo: 'registry', dataset: 'carla', dest: '/data/carla' },
          command: exampleTrainerCommand(),
          outputDir: '/out/carla-prior',
          model: { name: 'carla-prior' },
        }),
        { executor: 'kubernetes', executorConfig: { resources: { limits: { 'nvidia.com/gpu': '1' } } } },
      )
    })
    const train = serializeDag(dag, 'train.dag.ts').tasks.find((t) => t.task_id === 'train')!
    expect(train).toMatchObject({
      operator: 'training.pull-and-run',
      upstream: [],
      executor: 'kubernetes',
      executor_config: { resources: { limits: { 'nvidia.com/gpu': '1' } } },
    })
    expect(dag.tasks.get('train')!.inputs).toMatchObject({ pull: { repo: 'registry', dataset: 'carla', dest: '/data/carla' } })
  })
})
