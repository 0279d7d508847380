/**
 * Upload of a local folder to s3://bucket/prefix/. Objects already there with the same SHA-256 are skipped, a
 * recorded multipart upload is continued, and manifest.json goes up last: until it does, the prefix is incomplete.
 */
import path from 'node:path'
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { createS3Client } from './client.ts'
import { sha256 } from './digest.ts'
import { digestFile, readWithDigest } from '../../runtime/operator.ts'
import { listLocalFiles, type LocalFile } from './local-files.ts'
import { formatS3Url, MANIFEST_NAME, parseS3Url } from './location.ts'
import { buildManifest, type ManifestEntry } from './manifest.ts'
import { plannedPartSize, uploadMultipart } from './multipart-upload.ts'
import { parseS3Options, type S3OptionsInput } from './options.ts'
import { forEachLimit } from './pool.ts'
import { putObject } from './put-object.ts'
import { headObject, listRemoteSizes } from './remote-objects.ts'
import { transferContext, type TransferContext } from './transfer-context.ts'
import { recordedUploads, type TransferEnv } from './transfer-env.ts'
import { UploadRecorder } from './upload-record.ts'

export interface UploadRequest {
  /** The local folder whose files are uploaded (recursively; symbolic links are skipped). */
  from: string
  /** s3://bucket/prefix/ */
  to: string
  options?: S3OptionsInput
}

export interface UploadResult {
  url: string
  manifest: string
  objects: number
  bytes: number
  uploaded: number
  skipped: number
  partsUploaded: number
  partsReused: number
  /** Retried requests, by operation. */
  retries: Record<string, number>
}

export async function uploadPrefix(req: UploadRequest, env: TransferEnv = {}, client?: S3Client): Promise<UploadResult> {
  const options = parseS3Options(req.options)
  const loc = parseS3Url(req.to)
  const url = formatS3Url(loc)
  const log = env.log ?? (() => {})
  const files = await listLocalFiles(req.from, (file, why) => log(`skipping ${file}: ${why}`))
  const own = client ? null : createS3Client(options)
  const ctx = transferContext(
    client ?? own!,
    options,
    loc,
    env,
    files.reduce((n, f) => n + f.size, 0),
  )
  const recorder = new UploadRecorder(url, recordedUploads(env.previousDetails, url, log), env, log)
  const result: UploadResult = {
    url,
    manifest: url + MANIFEST_NAME,
    objects: files.length,
    bytes: ctx.bytes.total,
    uploaded: 0,
    skipped: 0,
    partsUploaded: 0,
    partsReused: 0,
    retries: ctx.retries,
  }
  try {
    const remote = await listRemoteSizes(ctx, env.signal)
    let invalidated: Promise<void> | null = null
    // An old manifest must not vouch for objects while they are being replaced.
    const invalidate = (): Promise<void> =>
      (invalidated ??= remote.has(MANIFEST_NAME) ? deleteObject(ctx, MANIFEST_NAME, env.signal) : Promise.resolve())
    const entries: ManifestEntry[] = []
    await forEachLimit(files, options.concurrency, env.signal, async (file, signal) => {
      const small = file.size < options.multipartThreshold
      const partSize = plannedPartSize(file, options.partSize, recorder.get(file.rel))
      const read = small ? await readWithDigest(file.path, 'sha256') : null
      const whole = read ? null : { ...(await digestFile(file.path, 'sha256', partSize)), partSize }
      const digest = read?.digest ?? whole!.digest
      signal.throwIfAborted()
      if (read && read.bytes.length !== file.size)
        throw new Error(`${file.path} changed size while being read (${file.size} -> ${read.bytes.length} bytes)`)
      entries.push({ key: file.rel, size: file.size, sha256: digest })
      if (await alreadyThere(ctx, file, digest, remote, signal)) {
        recorder.delete(file.rel)
        result.skipped++
        ctx.bytes.add(file.size)
        return
      }
      await invalidate()
      if (read) {
        await putObject(ctx, file.rel, read.bytes, digest, signal)
        ctx.bytes.add(file.size)
      } else {
        const mp = await uploadMultipart(ctx, file, whole!, recorder, signal)
        result.partsUploaded += mp.partsUploaded
        result.partsReused += mp.partsReused
      }
      result.uploaded++
    })
    const manifest = Buffer.from(JSON.stringify(buildManifest(entries), null, 1) + '\n')
    await putObject(ctx, MANIFEST_NAME, manifest, sha256(manifest), env.signal, 'application/json')
    log(`uploaded ${path.resolve(req.from)} to ${url}: ${result.uploaded} objects sent, ${result.skipped} already there`, { ...result })
    return result
  } finally {
    own?.destroy()
  }
}

async function alreadyThere(
  ctx: TransferContext,
  file: LocalFile,
  digest: string,
  remote: Map<string, number>,
  signal: AbortSignal,
): Promise<boolean> {
  if (remote.get(file.rel) !== file.size) return false
  const head = await headObject(ctx, file.rel, signal)
  return head !== null && head.size === file.size && head.sha256 === digest
}

async function deleteObject(ctx: TransferContext, rel: string, signal?: AbortSignal): Promise<void> {
  const key = ctx.loc.prefix + rel
  await ctx.request('DeleteObject', key, signal, (s) =>
    ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.loc.bucket, Key: key }), { abortSignal: s }),
  )
}
