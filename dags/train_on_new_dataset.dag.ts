import { dvcPull } from 'adas-forge/operators/dvc'
import { exampleTrainerCommand, trainingRun } from 'adas-forge/operators/training'
import { defineDag, onDatasets } from 'adas-forge'

/**
 * Trains on every new version of the nightly dataset: scheduled on its dataset events, it pulls exactly the version
 * the event names (every digest verified, no partial folder), runs the trainer, logs the training run to MLflow with
 * the dataset as its input, uploads the model file as the run's `model/` artifacts and registers that folder as a
 * model version with the alias `candidate` (when MLFLOW_TRACKING_URI is set), and records the model as `model://carla-prior`, so `forge lineage model carla-prior/VERSION` walks back to
 * the frames. The trainer here is operators/training/example-trainer.ts: an example that fits a per-class box prior,
 * not a detector; point `command` at your own training script.
 */
export default defineDag(
  {
    id: 'train_on_new_dataset',
    description: 'a new carla_nightly dataset version -> pull -> train -> MLflow run and model version',
    schedule: onDatasets('dataset://carla_nightly'),
    maxActiveRuns: 1,
    defaults: { retries: 1, retryDelay: '1m', timeout: '6h' },
  },
  (dag) => {
    // No tag given: the version and its remote come from the dataset event that started this run.
    const pull = dag.task('pull', dvcPull({ repo: '.forge/registry', dataset: 'carla_nightly', dest: '.forge/datasets/carla_nightly' }))
    dag.task(
      'train',
      trainingRun({
        command: exampleTrainerCommand(),
        dataset: pull.out,
        outputDir: '.forge/models/carla-prior',
        model: { name: 'carla-prior', alias: 'candidate' },
      }),
    )
  },
)
