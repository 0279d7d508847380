/** A running s3rver behind a faulty proxy, the options pointing at it, and folders of test files. */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { startFaultyProxy, type FaultyProxy, type ProxyHooks } from '../../../helpers/faulty-proxy.ts'
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from '../../../helpers/s3rver.ts'
import type { S3OptionsInput } from '../../../../operators/s3/index.ts'

export const MiB = 1024 * 1024

export interface S3Fixture {
  s3: RunningS3rver
  proxy: FaultyProxy
  hooks: ProxyHooks
  options: S3OptionsInput
  /** A client straight to s3rver (not through the proxy), for checks. */
  direct: S3Client
  tmp: string
  url(prefix: string): string
  close(): Promise<void>
}

/** The operator's client takes credentials from the standard chain: the test's environment carries s3rver's. */
export function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
}

export async function startS3Fixture(): Promise<S3Fixture> {
  useS3rverCredentials()
  const s3 = await startS3rver()
  const hooks: ProxyHooks = {}
  const proxy = await startFaultyProxy(() => s3.port, { fault: (r) => hooks.fault?.(r), onResponse: (r) => hooks.onResponse?.(r) })
  const tmp = await mkdtemp(path.join(os.tmpdir(), 's3-test-'))
  const direct = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return {
    s3,
    proxy,
    hooks,
    direct,
    tmp,
    options: {
      endpoint: proxy.endpoint,
      forcePathStyle: true,
      multipartThreshold: 5 * MiB,
      partSize: 5 * MiB,
      concurrency: 4,
      partConcurrency: 2,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 40,
    },
    url: (prefix) => `s3://${s3.bucket}/${prefix}`,
    close: async () => {
      direct.destroy()
      await proxy.close()
      await s3.close()
      await rm(tmp, { recursive: true, force: true })
    },
  }
}

/** Writes files (relative path -> size) of random bytes and returns the folder. */
export async function makeFolder(dir: string, files: Record<string, number>): Promise<string> {
  for (const [rel, size] of Object.entries(files)) {
    const file = path.join(dir, rel)
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, randomBytes(size))
  }
  return dir
}

/** Every file under `dir` by relative posix path, with its SHA-256 (deep equality on large Buffers takes minutes). */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = path.join(entry.parentPath, entry.name)
    out.set(
      path.relative(dir, full).split(path.sep).join('/'),
      createHash('sha256')
        .update(await readFile(full))
        .digest('hex'),
    )
  }
  return out
}

/** Requests that send object bytes: PutObject, UploadPart (PUT), CompleteMultipartUpload/CreateMultipartUpload (POST). */
export function writes(proxy: FaultyProxy, from = 0): { puts: string[]; parts: string[]; creates: string[] } {
  const reqs = proxy.requests.slice(from)
  return {
    puts: reqs.filter((r) => r.method === 'PUT' && !r.query.has('partNumber')).map((r) => r.path),
    parts: reqs.filter((r) => r.method === 'PUT' && r.query.has('partNumber')).map((r) => `${r.path}#${r.query.get('partNumber')}`),
    creates: reqs.filter((r) => r.method === 'POST' && r.query.has('uploads')).map((r) => r.path),
  }
}
