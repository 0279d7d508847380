/**
 * Resumable multipart uploads. lib-storage's Upload cannot continue another process's upload, so this drives
 * CreateMultipartUpload / UploadPart / CompleteMultipartUpload itself and records each confirmed part (number and
 * ETag, which identifies the part to CompleteMultipartUpload; it is never taken for a content hash).
 */
import { open, type FileHandle } from 'node:fs/promises'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
  type Part,
} from '@aws-sdk/client-s3'
import { DIGEST_METADATA } from './digest.ts'
import type { FileDigest } from '../../runtime/operator.ts'
import { withPayloadHash } from './payload-hash.ts'
import { S3IntegrityError } from './errors.ts'
import type { LocalFile } from './local-files.ts'
import { forEachLimit } from './pool.ts'
import { headObject } from './remote-objects.ts'
import { isNotFound, rootCause, statusOf, type TransferContext } from './transfer-context.ts'
import type { MultipartState, UploadedPart } from './transfer-env.ts'
import type { UploadRecorder } from './upload-record.ts'

const MiB = 1024 * 1024
const MAX_PARTS = 10_000

export interface MultipartResult {
  partsUploaded: number
  partsReused: number
}

/** The part size for an object: the configured one, raised in whole MiB when the object would need more than 10,000 parts. */
export function partSizeFor(size: number, configured: number): number {
  return Math.max(configured, Math.ceil(size / MAX_PARTS / MiB) * MiB)
}

/** The part size an object would be sent with: a recorded upload's, so a resume lines up with it, else the configured one. */
export function plannedPartSize(file: LocalFile, configured: number, recorded: MultipartState | undefined): number {
  return recorded && recorded.size === file.size ? recorded.partSize : partSizeFor(file.size, configured)
}

export async function uploadMultipart(
  ctx: TransferContext,
  file: LocalFile,
  digest: FileDigest & { partSize: number },
  recorder: UploadRecorder,
  signal?: AbortSignal,
): Promise<MultipartResult> {
  const prior = await resumable(ctx, file, digest.digest, recorder.get(file.rel), signal)
  try {
    return await send(ctx, file, digest, recorder, prior, signal)
  } catch (err) {
    if (!prior || !isNotFound(err)) throw err
    // The server lost the recorded upload (aborted, expired, or its store was reset): start a new one.
    ctx.log(`recorded upload of ${ctx.loc.prefix + file.rel} is gone from the server; starting it again`, { uploadId: prior.uploadId })
    recorder.delete(file.rel)
    return send(ctx, file, digest, recorder, null, signal)
  }
}

async function send(
  ctx: TransferContext,
  file: LocalFile,
  digest: FileDigest & { partSize: number },
  recorder: UploadRecorder,
  prior: MultipartState | null,
  signal?: AbortSignal,
): Promise<MultipartResult> {
  const key = ctx.loc.prefix + file.rel
  let state = prior
  const partsReused = state?.parts.length ?? 0
  if (!state) {
    const created = await ctx.request('CreateMultipartUpload', key, signal, (s) =>
      ctx.client.send(new CreateMultipartUploadCommand({ Bucket: ctx.loc.bucket, Key: key, Metadata: { [DIGEST_METADATA]: digest.digest } }), {
        abortSignal: s,
      }),
    )
    state = { uploadId: created.UploadId!, sha256: digest.digest, size: file.size, partSize: partSizeFor(file.size, ctx.options.partSize), parts: [] }
  } else {
    ctx.log(`resuming upload of ${key}: ${state.parts.length} of ${partCount(state)} parts already on the server`, { uploadId: state.uploadId })
  }
  recorder.set(file.rel, state)
  const current = state
  const have = new Set(current.parts.map((p) => p.partNumber))
  for (const p of current.parts) ctx.bytes.add(partLength(current, p.partNumber))
  // The parts' digests were taken at this part size unless the upload had to start over with another.
  const partDigests = digest.partSize === current.partSize ? digest.parts : undefined
  const todo = Array.from({ length: partCount(current) }, (_, i) => i + 1).filter((n) => !have.has(n))

  const fh = await open(file.path, 'r')
  try {
    // Part slots are shared by every object of the transfer, which bounds the part buffers held at once.
    await forEachLimit(todo, ctx.options.partConcurrency, signal, (n, s) =>
      ctx.partSlots.run(async () => {
        s.throwIfAborted()
        const body = await readPart(fh, file.path, current, n)
        const res = await ctx.request('UploadPart', `${key} part ${n}`, s, (rs) =>
          ctx.client.send(
            withPayloadHash(
              new UploadPartCommand({
                Bucket: ctx.loc.bucket,
                Key: key,
                UploadId: current.uploadId,
                PartNumber: n,
                Body: body,
                ContentLength: body.length,
              }),
              partDigests?.[n - 1],
            ),
            { abortSignal: rs },
          ),
        )
        if (!res.ETag) throw new Error(`UploadPart ${key} part ${n}: the server returned no ETag`)
        current.parts.push({ partNumber: n, etag: res.ETag })
        recorder.set(file.rel, current)
        ctx.bytes.add(body.length)
      }),
    )
  } finally {
    await fh.close()
  }
  try {
    await complete(ctx, key, current, signal)
  } finally {
    // Completed, or refused in a way that a new upload, not this one, can fix.
    recorder.delete(file.rel)
  }
  return { partsUploaded: todo.length, partsReused }
}

/** The recorded upload if it can be continued: same bytes, and (where the server can list parts) still there. */
async function resumable(
  ctx: TransferContext,
  file: LocalFile,
  digest: string,
  prior: MultipartState | undefined,
  signal?: AbortSignal,
): Promise<MultipartState | null> {
  if (!prior) return null
  const key = ctx.loc.prefix + file.rel
  if (prior.sha256 !== digest || prior.size !== file.size) {
    ctx.log(`${key} changed since the recorded upload; starting it again`, { uploadId: prior.uploadId })
    await abortUpload(ctx, key, prior.uploadId, signal)
    return null
  }
  const listed = await listParts(ctx, key, prior.uploadId, signal)
  if (listed === 'gone') {
    ctx.log(`recorded upload of ${key} no longer exists on the server; starting it again`, { uploadId: prior.uploadId })
    return null
  }
  if (listed === 'unsupported') {
    ctx.log(
      `the server cannot list parts; trusting the ${prior.parts.length} recorded parts of ${key} (completion and the final size and digest check catch a missing one)`,
    )
    return structuredClone(prior)
  }
  const parts = prior.parts.filter((p) => {
    const on = listed.get(p.partNumber)
    return on !== undefined && on.etag === p.etag && on.size === partLength(prior, p.partNumber)
  })
  return { ...structuredClone(prior), parts }
}

async function listParts(
  ctx: TransferContext,
  key: string,
  uploadId: string,
  signal?: AbortSignal,
): Promise<Map<number, { etag: string; size: number }> | 'gone' | 'unsupported'> {
  const parts = new Map<number, { etag: string; size: number }>()
  let marker: string | undefined
  try {
    do {
      const page = await ctx.request('ListParts', key, signal, (s) =>
        ctx.client.send(new ListPartsCommand({ Bucket: ctx.loc.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), { abortSignal: s }),
      )
      for (const p of page.Parts ?? []) if (p.PartNumber && p.ETag) parts.set(p.PartNumber, { etag: p.ETag, size: p.Size ?? -1 })
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined
    } while (marker)
  } catch (err) {
    if (isNotFound(err)) return 'gone'
    const status = statusOf(rootCause(err))
    if (status === 405 || status === 501) return 'unsupported'
    throw err
  }
  return parts
}

async function complete(ctx: TransferContext, key: string, state: MultipartState, signal?: AbortSignal): Promise<void> {
  const parts: Part[] = [...state.parts]
    .sort((a, b) => a.partNumber - b.partNumber)
    .map((p: UploadedPart) => ({ PartNumber: p.partNumber, ETag: p.etag }))
  let gone: unknown = null
  try {
    await ctx.request('CompleteMultipartUpload', key, signal, (s) =>
      ctx.client.send(
        new CompleteMultipartUploadCommand({ Bucket: ctx.loc.bucket, Key: key, UploadId: state.uploadId, MultipartUpload: { Parts: parts } }),
        { abortSignal: s },
      ),
    )
  } catch (err) {
    // A retried completion whose first try succeeded finds the upload gone; the object's HEAD below decides.
    if (!isNotFound(err)) throw err
    gone = err
  }
  const head = await headObject(ctx, key.slice(ctx.loc.prefix.length), signal)
  if (!head && gone) throw gone
  if (!head || head.size !== state.size || head.sha256 !== state.sha256) {
    const got = head ? `${head.size} bytes, sha256 ${head.sha256 ?? 'none'}` : 'no object'
    // Retryable: the record is dropped, so the next attempt uploads the object afresh.
    throw new S3IntegrityError(
      `${key}: after CompleteMultipartUpload the server has ${got}, expected ${state.size} bytes, sha256 ${state.sha256}`,
      key,
      state.sha256,
      head?.sha256 ?? '',
      false,
    )
  }
}

async function abortUpload(ctx: TransferContext, key: string, uploadId: string, signal?: AbortSignal): Promise<void> {
  try {
    await ctx.request('AbortMultipartUpload', key, signal, (s) =>
      ctx.client.send(new AbortMultipartUploadCommand({ Bucket: ctx.loc.bucket, Key: key, UploadId: uploadId }), { abortSignal: s }),
    )
  } catch (err) {
    ctx.log(`could not abort the stale upload of ${key} (a lifecycle rule will have to): ${(err as Error).message}`, { uploadId })
  }
}

function partCount(s: MultipartState): number {
  return Math.max(1, Math.ceil(s.size / s.partSize))
}

function partLength(s: MultipartState, n: number): number {
  return Math.min(s.partSize, s.size - (n - 1) * s.partSize)
}

async function readPart(fh: FileHandle, file: string, s: MultipartState, n: number): Promise<Buffer> {
  const len = partLength(s, n)
  const buf = Buffer.allocUnsafe(len)
  let got = 0
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, (n - 1) * s.partSize + got)
    if (bytesRead === 0) throw new Error(`${file} shrank while uploading part ${n}`)
    got += bytesRead
  }
  return buf
}
