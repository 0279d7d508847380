/**
 * The S3 operator: verified, resumable transfers of a folder to and from s3://bucket/prefix/ (AWS or any
 * S3-compatible server), with a SHA-256 per object and a manifest written last.
 *
 * ```ts
 * import { s3Upload } from '../operators/s3/index.ts'
 * dag.task('upload', s3Upload({ from: aug.out.dir, to: 's3://datasets/carla/nightly/', options: { endpoint, forcePathStyle: true } }))
 * ```
 */
export { s3Upload, s3Download, transferEnv, type S3UploadInputs, type S3DownloadInputs } from './s3-operator.ts'
export { uploadPrefix, type UploadRequest, type UploadResult } from './upload-prefix.ts'
export { downloadPrefix, type DownloadRequest, type DownloadResult } from './download-prefix.ts'
export { s3OptionsSchema, parseS3Options, type S3Options, type S3OptionsInput } from './options.ts'
export { createS3Client } from './client.ts'
export { parseS3Url, formatS3Url, MANIFEST_NAME, type S3Location } from './location.ts'
export { manifestSchema, parseManifest, type Manifest, type ManifestEntry } from './manifest.ts'
export { uploadDetailsSchema, type TransferEnv, type UploadDetails, type MultipartState } from './transfer-env.ts'
export { S3OptionsError, S3ManifestError, S3IntegrityError, S3RequestError } from './errors.ts'
export { isRetryable, backoffMs, type RetryPolicy } from './retry.ts'
