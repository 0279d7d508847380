/**
 * Download of s3://bucket/prefix/ into a local folder, driven by the prefix's manifest alone: no manifest, no
 * download. Every object's bytes are hashed (as they arrive, or once a large one's ranges are all written) and must
 * match the manifest's SHA-256 (an ETag is no content hash), and a file is renamed into place only once it does. Files already there with the digest are kept.
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { createS3Client } from './client.ts'
import { DIGEST_METADATA, sha256, sha256File } from './digest.ts'
import { digestFile } from '../../runtime/operator.ts'
import { S3IntegrityError, S3ManifestError } from './errors.ts'
import { formatS3Url, localPathFor, MANIFEST_NAME, parseS3Url } from './location.ts'
import { parseManifest, type ManifestEntry } from './manifest.ts'
import { parseS3Options, type S3OptionsInput } from './options.ts'
import { forEachLimit } from './pool.ts'
import { isNotFound, transferContext, type TransferContext } from './transfer-context.ts'
import type { TransferEnv } from './transfer-env.ts'

export interface DownloadRequest {
  /** s3://bucket/prefix/, written by uploadPrefix (it must hold a manifest.json). */
  from: string
  /** The local folder the objects are written into (created if missing). */
  to: string
  options?: S3OptionsInput
}

export interface DownloadResult {
  url: string
  dir: string
  objects: number
  bytes: number
  downloaded: number
  skipped: number
  retries: Record<string, number>
}

/** An object whose bytes hashed wrong once is fetched once more (transit damage) before the download fails. */
const INTEGRITY_TRIES = 2

export async function downloadPrefix(req: DownloadRequest, env: TransferEnv = {}, client?: S3Client): Promise<DownloadResult> {
  const options = parseS3Options(req.options)
  const loc = parseS3Url(req.from)
  const url = formatS3Url(loc)
  const dir = path.resolve(req.to)
  const log = env.log ?? (() => {})
  const own = client ? null : createS3Client(options)
  try {
    const ctx = transferContext(client ?? own!, options, loc, env, 0)
    const manifest = parseManifest(await fetchManifest(ctx, url, env.signal), url + MANIFEST_NAME)
    // Every key is checked before anything is written.
    const targets = manifest.objects.map((entry) => ({ entry, file: localPathFor(dir, entry.key) }))
    ctx.bytes.total = manifest.totalBytes
    const result: DownloadResult = { url, dir, objects: targets.length, bytes: manifest.totalBytes, downloaded: 0, skipped: 0, retries: ctx.retries }
    await mkdir(dir, { recursive: true })
    await forEachLimit(targets, options.concurrency, env.signal, async ({ entry, file }, signal) => {
      if (await alreadyHere(file, entry, signal)) {
        result.skipped++
      } else {
        await mkdir(path.dirname(file), { recursive: true })
        await fetchVerified(ctx, entry, file, signal)
        result.downloaded++
      }
      ctx.bytes.add(entry.size)
    })
    log(`downloaded ${url} to ${dir}: ${result.downloaded} objects fetched, ${result.skipped} already here`, { ...result })
    return result
  } finally {
    own?.destroy()
  }
}

async function fetchManifest(ctx: TransferContext, url: string, signal?: AbortSignal): Promise<Uint8Array> {
  const key = ctx.loc.prefix + MANIFEST_NAME
  try {
    return await ctx.request('GetObject', key, signal, async (s) => {
      const res = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.loc.bucket, Key: key }), { abortSignal: s })
      const bytes = await res.Body!.transformToByteArray()
      const recorded = res.Metadata?.[DIGEST_METADATA]
      if (recorded && recorded !== sha256(bytes))
        throw new S3IntegrityError(`${url}${MANIFEST_NAME} does not match its own recorded sha256`, key, recorded, sha256(bytes))
      return bytes
    })
  } catch (err) {
    if (isNotFound(err)) {
      throw new S3ManifestError(
        `${url} has no ${MANIFEST_NAME}: its upload never completed (or it was not written by this operator), so it is not downloaded`,
        url,
      )
    }
    throw err
  }
}

async function alreadyHere(file: string, entry: ManifestEntry, signal: AbortSignal): Promise<boolean> {
  const st = await stat(file).catch(() => null)
  return !!st?.isFile() && st.size === entry.size && (await sha256File(file, signal)) === entry.sha256
}

async function fetchVerified(ctx: TransferContext, entry: ManifestEntry, file: string, signal: AbortSignal): Promise<void> {
  const key = ctx.loc.prefix + entry.key
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`)
  try {
    for (let attempt = 1; ; attempt++) {
      const got =
        entry.size >= ctx.options.multipartThreshold
          ? await fetchRanges(ctx, key, entry.size, partial, signal)
          : await ctx.request('GetObject', key, signal, (s) => fetchTo(ctx, key, partial, s))
      if (got.sha256 === entry.sha256 && got.size === entry.size) break
      const what = `s3://${ctx.loc.bucket}/${key}: its bytes (${got.size}, sha256 ${got.sha256}) do not match the manifest (${entry.size}, sha256 ${entry.sha256})`
      if (attempt >= INTEGRITY_TRIES) {
        throw new S3IntegrityError(
          `${what}; fetched ${attempt} times, so the object on the server is corrupt or was replaced after the manifest was written`,
          key,
          entry.sha256,
          got.sha256,
        )
      }
      ctx.log(`${what}; fetching it again`)
    }
    await rename(partial, file)
  } finally {
    await rm(partial, { force: true })
  }
}

async function fetchTo(ctx: TransferContext, key: string, file: string, signal: AbortSignal | undefined): Promise<{ sha256: string; size: number }> {
  const res = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.loc.bucket, Key: key }), { abortSignal: signal })
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk)
      size += chunk.length
      done(null, chunk)
    },
  })
  await pipeline(res.Body as Readable, tap, createWriteStream(file), { signal })
  return { sha256: hash.digest('hex'), size }
}

/**
 * A large object in parallel ranged GETs of `partSize`, each retried on its own and written at its offset; the
 * file is hashed once complete, so ranges of an object replaced in between fail the digest check like corruption.
 */
async function fetchRanges(
  ctx: TransferContext,
  key: string,
  size: number,
  file: string,
  signal: AbortSignal,
): Promise<{ sha256: string; size: number }> {
  const partSize = ctx.options.partSize
  const ranges = Array.from({ length: Math.ceil(size / partSize) }, (_, i) => i * partSize)
  const fh = await open(file, 'w')
  try {
    await forEachLimit(ranges, ctx.options.partConcurrency, signal, (start, s) =>
      ctx.partSlots.run(async () => {
        s.throwIfAborted()
        const end = Math.min(size, start + partSize) - 1
        const bytes = await ctx.request('GetObject', `${key} bytes ${start}-${end}`, s, async (rs) => {
          const res = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.loc.bucket, Key: key, Range: `bytes=${start}-${end}` }), {
            abortSignal: rs,
          })
          return res.Body!.transformToByteArray()
        })
        if (bytes.length !== end - start + 1)
          throw new S3IntegrityError(`s3://${ctx.loc.bucket}/${key}: range ${start}-${end} returned ${bytes.length} bytes`, key, '', '', false)
        await fh.write(bytes, 0, bytes.length, start)
      }),
    )
  } finally {
    await fh.close()
  }
  const got = await digestFile(file, 'sha256')
  return { sha256: got.digest, size: (await stat(file)).size }
}
