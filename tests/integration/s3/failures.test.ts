import { existsSync } from 'node:fs'
import { open, readdir } from 'node:fs/promises'
import path from 'node:path'
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UnsafePathError } from '../../../runtime/index.ts'
import { downloadPrefix, S3IntegrityError, S3ManifestError, S3RequestError, uploadPrefix } from '../../../operators/s3/index.ts'
import { makeFolder, MiB, readTree, startS3Fixture, writes, type S3Fixture } from './helpers/s3-fixture.ts'

describe('s3 transfers when things go wrong (s3rver)', () => {
  let f: S3Fixture
  let src: string
  beforeAll(async () => {
    f = await startS3Fixture()
    src = await makeFolder(path.join(f.tmp, 'src'), { 'frames/000001.png': 50_000, 'frames/000002.png': 60_000, 'big/camera.raw': 11 * MiB })
  })
  afterAll(() => f?.close())

  it('detects an object corrupted on the server, naming its key, and leaves no file for it', async () => {
    await uploadPrefix({ from: src, to: f.url('corrupt'), options: f.options })
    // Same length, one byte flipped: only the digest can tell.
    const fh = await open(f.s3.objectFile('corrupt/frames/000002.png'), 'r+')
    const byte = Buffer.alloc(1)
    await fh.read(byte, 0, 1, 1000)
    await fh.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, 1000)
    await fh.close()
    const dest = path.join(f.tmp, 'corrupt-dest')
    const err = await downloadPrefix({ from: f.url('corrupt'), to: dest, options: { ...f.options, concurrency: 1 } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(S3IntegrityError)
    expect((err as Error).message).toMatch(
      /^s3:\/\/test-bucket\/corrupt\/frames\/000002\.png: its bytes \(60000, sha256 [0-9a-f]{64}\) do not match the manifest/,
    )
    expect((err as S3IntegrityError).nonRetryable).toBe(true)
    expect(existsSync(path.join(dest, 'frames/000002.png'))).toBe(false)
    expect((await readdir(path.join(dest, 'frames'))).filter((n) => n.includes('partial'))).toEqual([])
  })

  it('detects a corrupted large object fetched in ranges', async () => {
    await uploadPrefix({ from: src, to: f.url('corrupt-big'), options: f.options })
    const fh = await open(f.s3.objectFile('corrupt-big/big/camera.raw'), 'r+')
    await fh.write(Buffer.from('not the original bytes'), 0, 22, 6 * MiB)
    await fh.close()
    const err = await downloadPrefix({ from: f.url('corrupt-big'), to: path.join(f.tmp, 'corrupt-big-dest'), options: f.options }).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(S3IntegrityError)
    expect((err as Error).message).toMatch(
      /^s3:\/\/test-bucket\/corrupt-big\/big\/camera\.raw: its bytes \(11534336, sha256 [0-9a-f]{64}\) do not match the manifest/,
    )
  })

  it('refuses a prefix without a manifest', async () => {
    await uploadPrefix({ from: src, to: f.url('partial'), options: f.options })
    await f.direct.send(new DeleteObjectCommand({ Bucket: 'test-bucket', Key: 'partial/manifest.json' }))
    const dest = path.join(f.tmp, 'partial-dest')
    const err = await downloadPrefix({ from: f.url('partial'), to: dest, options: f.options }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(S3ManifestError)
    expect((err as Error).message).toBe(
      's3://test-bucket/partial/ has no manifest.json: its upload never completed (or it was not written by this operator), so it is not downloaded',
    )
    expect(existsSync(dest)).toBe(false)
  })

  it('refuses a manifest whose key would leave the destination folder, before writing anything', async () => {
    const manifest = {
      format: 'adas-forge/s3-manifest',
      version: 1,
      createdAt: new Date().toISOString(),
      totalBytes: 2,
      objects: [
        { key: 'ok.txt', size: 1, sha256: '0'.repeat(64) },
        { key: '../escaped.txt', size: 1, sha256: '0'.repeat(64) },
      ],
    }
    await f.direct.send(new PutObjectCommand({ Bucket: 'test-bucket', Key: 'evil/manifest.json', Body: JSON.stringify(manifest) }))
    const dest = path.join(f.tmp, 'evil-dest')
    const err = await downloadPrefix({ from: f.url('evil'), to: dest, options: f.options }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnsafePathError)
    expect((err as Error).message).toMatch(/"\.\.\/escaped\.txt"/)
    expect(existsSync(dest)).toBe(false)
    expect(existsSync(path.join(f.tmp, 'escaped.txt'))).toBe(false)
  })

  it('retries throttling, 5xx and connection resets, and still round-trips', async () => {
    const seen = new Map<string, number>()
    // The first try of every request fails: SlowDown on puts, 500 on parts, a reset on HEAD/GET, 503 on the rest.
    f.hooks.fault = (r) => {
      const id = `${r.method} ${r.path} ${[...r.query.keys()].join(',')} ${r.query.get('partNumber') ?? ''}`
      const n = (seen.get(id) ?? 0) + 1
      seen.set(id, n)
      if (n > 1) return null
      if (r.method === 'PUT') return r.query.has('partNumber') ? { status: 500, code: 'InternalError' } : { status: 503, code: 'SlowDown' }
      if (r.method === 'GET' || r.method === 'HEAD') return 'reset'
      return { status: 503, code: 'ServiceUnavailable' }
    }
    const logs: string[] = []
    try {
      const up = await uploadPrefix({ from: src, to: f.url('flaky'), options: f.options }, { log: (m) => void logs.push(m) })
      expect(up.uploaded).toBe(3)
      expect(up.retries).toMatchObject({ PutObject: 3, UploadPart: 3, CreateMultipartUpload: 1, CompleteMultipartUpload: 1, ListObjectsV2: 1 })
      const dest = path.join(f.tmp, 'flaky-dest')
      const down = await downloadPrefix({ from: f.url('flaky'), to: dest, options: f.options })
      expect(down.retries).toEqual({ GetObject: 4 })
      expect(await readTree(dest)).toEqual(await readTree(src))
    } finally {
      f.hooks.fault = undefined
    }
    expect(f.proxy.injected).toBeGreaterThanOrEqual(14)
    expect(logs.some((l) => /^retrying PutObject flaky\/frames\/000001\.png in \d+ ms \(try 1 failed: SlowDown, HTTP 503/.test(l))).toBe(true)
  })

  it('fails at once on an answer a retry cannot change (403)', async () => {
    f.hooks.fault = (r) => (r.method === 'PUT' ? { status: 403, code: 'AccessDenied' } : null)
    const mark = f.proxy.requests.length
    try {
      const err = await uploadPrefix({ from: src, to: f.url('denied'), options: { ...f.options, concurrency: 1, partConcurrency: 1 } }).catch(
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(S3RequestError)
      expect((err as S3RequestError).nonRetryable).toBe(true)
      // Concurrency 1: big/camera.raw sorts first, so its first part is the first PUT.
      expect((err as Error).message).toBe('UploadPart denied/big/camera.raw part 1 failed: AccessDenied, HTTP 403: injected by the test proxy')
    } finally {
      f.hooks.fault = undefined
    }
    // One PUT tried, once, and nothing after it.
    const w = writes(f.proxy, mark)
    expect([...w.puts, ...w.parts]).toEqual(['/test-bucket/denied/big/camera.raw#1'])
  })
})
