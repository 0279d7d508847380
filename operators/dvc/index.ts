/**
 * The DVC operator: a native writer of DVC 3's formats (docs/dvc-format.md), dataset versions as git tags, and
 * a verified pull of one version.
 *
 * ```ts
 * import { dvcAdd } from '../operators/dvc/index.ts'
 * dag.task('version', dvcAdd({ repo: 'registry', path: 'carla', dataset: 'carla', remote: { url: '/srv/dvc-store' } }))
 * ```
 */
export { dvcAdd, type DvcAddInputs } from './dvc-add.operator.ts'
export { versionDataset, type DatasetVersion, type DvcEnv } from './version-dataset.ts'
export {
  dvcAddOptionsSchema,
  dvcRemoteSchema,
  parseDvcAddOptions,
  parseWith,
  DvcOptionsError,
  DATASET_NAME,
  type DvcAddInput,
  type DvcAddOptions,
} from './options.ts'
export { DvcError, DvcPushError } from './errors.ts'
export { manifestBytes, dirOid, pythonJsonString, compareCodePoints, type TreeEntry } from './manifest.ts'
export { md5File, type FileHasher } from './hash-file.ts'
export { dvcFileText, parseDvcFile, type DvcOut } from './dvc-file.ts'
export { buildOutput, type BuiltOutput } from './build-tree.ts'
export { StateCache } from './state-cache.ts'
export { objectKey } from './object-path.ts'
export { localFolderRemote, objectStoreRemote, type RemoteStore, type ObjectStoreFunctions, type ObjectBody } from './remote.ts'
export { pushOutput, type PushResult } from './push.ts'
export { latestVersion } from './commit-version.ts'
export { pullDataset, type PulledDataset, type PullEnv } from './pull.ts'
export { dvcPullOptionsSchema, parseDvcPullOptions, VERSION_TAG, type DvcPullInput, type DvcPullOptions } from './pull-options.ts'
export { dvcPull, pullInputFor, type DvcPullInputs } from './dvc-pull.operator.ts'
export { datasetVersionFromEvents, type DatasetEventVersion } from './dataset-event.ts'
export { DvcDigestError } from './errors.ts'
export { dvcAddCommand, registerDvcCommands, type DvcAddArgs } from './cli.ts'
