/**
 * The MLflow operator: a typed REST client for the tracking server and model registry (docs/mlflow-rest.md),
 * and the step that logs a dataset build.
 *
 * ```ts
 * import { mlflowLogDataset } from '../operators/mlflow/index.ts'
 * dag.task('register', mlflowLogDataset({ version: ver.out, params: { recipe: 'weather_v1' } }, config.mlflow))
 * ```
 */
export { MlflowClient, checkAlias } from './client.ts'
export { MlflowHttp, type HttpEnv, type CallOptions } from './http.ts'
export {
  MlflowError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  InvalidParameterValueError,
  PermissionDeniedError,
  UnauthenticatedError,
  RateLimitedError,
  ServerError,
  MlflowHttpError,
  MlflowNetworkError,
  MlflowValidationError,
  errorFromResponse,
  RETRYABLE_STATUS,
} from './errors.ts'
export { mlflowConnectionSchema, parseConnection, authorizationHeader, type MlflowConnection, type MlflowConnectionInput } from './options.ts'
export { LIMITS, splitBatches, type Batch } from './limits.ts'
export {
  logDatasetBuild,
  logDatasetSchema,
  datasetVersionSchema,
  datasetSource,
  paramsNotLogged,
  paramString,
  BUILD_TAG,
  type LogDatasetInput,
  type LoggedDataset,
  type ForgeLink,
} from './log-dataset.ts'
export { mlflowLogDataset, runLogDataset, NOT_CONFIGURED, type SkippedStep, type LogDatasetInputs } from './log-dataset.operator.ts'
export { registerModelVersion, type RegisterModelRequest } from './register-model.ts'
export { uploadRunArtifacts, putArtifact, listArtifacts, proxiedPath, type ArtifactFile, type ArtifactEntry } from './artifacts.ts'
export { backoffDelay, sleep } from './backoff.ts'
export {
  RunStatus,
  type Experiment,
  type Run,
  type RunInfo,
  type Metric,
  type KeyValue,
  type DatasetInput,
  type DatasetSpec,
  type ModelVersion,
  type RegisteredModel,
} from './types.ts'
