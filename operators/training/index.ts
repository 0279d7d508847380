/**
 * The training operator: a training run on a pulled dataset version (a local process), logged and registered in
 * MLflow; the same with the pull in the one task (`pullAndTrain`, for a Kubernetes Job); and a webhook for external
 * training systems. Both record the `model://NAME` outlet.
 *
 * ```ts
 * import { dvcPull } from '../operators/dvc/index.ts'
 * import { exampleTrainerCommand, trainingRun } from '../operators/training/index.ts'
 * const pull = dag.task('pull', dvcPull({ repo: 'registry', dataset: 'carla', dest: '.forge/datasets/carla' }))
 * dag.task('train', trainingRun({ command: exampleTrainerCommand(), dataset: pull.out, outputDir: '.forge/models/carla-prior', model: { name: 'carla-prior' } }, { mlflow }))
 * ```
 */
export { trainingRun, type TrainingRunInputs, type TrainingRunEnv } from './training-run.operator.ts'
export { pullAndTrain, type PullAndTrainInputs } from './pull-and-train.operator.ts'
export { trainModel, trainerArgv, trainerEnv, type TrainEnv, type TrainedModel, type ModelOutlet } from './train-model.ts'
export {
  trainModelSchema,
  pulledDatasetSchema,
  parseTrainModelOptions,
  DEFAULT_ENV_ALLOWLIST,
  type TrainModelInput,
  type TrainModelOptions,
} from './options.ts'
export { parseResultLine, progressLine, trainingResultSchema, type TrainingResult } from './result-line.ts'
export { runProcess, type ProcessSpec, type ProcessOutcome } from './run-process.ts'
export { logTraining, trainingKey, TRAINING_TAG, MODEL_VERSION_TAG, type LoggedTraining } from './log-training.ts'
export { recordOutlet, type OutletContext } from './outlet.ts'
export { exampleTrainerCommand } from './example-trainer-command.ts'
export { trainingWebhook, type TrainingWebhookInputs } from './training-webhook.operator.ts'
export { triggerTrainingWebhook, idempotencyKey, type WebhookResult } from './trigger-webhook.ts'
export { webhookOptionsSchema, parseWebhookOptions, type WebhookInput, type WebhookOptions } from './webhook-options.ts'
export { TrainingError, WebhookError } from './errors.ts'
