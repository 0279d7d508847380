import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { downloadPrefix, S3ManifestError, uploadPrefix, uploadDetailsSchema, type UploadDetails } from '../../../operators/s3/index.ts'
import type { ProxiedRequest } from '../../helpers/faulty-proxy.ts'
import { makeFolder, MiB, readTree, startS3Fixture, writes, type S3Fixture } from './helpers/s3-fixture.ts'

const PARTS = 8

describe('s3 upload killed in mid-multipart, resumed by the next attempt from its heartbeat details', () => {
  let f: S3Fixture
  let src: string
  beforeAll(async () => {
    f = await startS3Fixture()
    src = await makeFolder(path.join(f.tmp, 'src'), { 'big/camera.raw': PARTS * 5 * MiB - 1000, 'small/a.txt': 2_000, 'small/b.txt': 3_000 })
  })
  afterAll(() => f?.close())

  it('uploads only the parts the first attempt did not confirm, into the same upload, and the object is byte-identical', async () => {
    const options = { ...f.options, concurrency: 1, partConcurrency: 2, maxAttempts: 3 }
    const details: UploadDetails[] = []
    let confirmed = 0
    f.hooks.onResponse = (r) => {
      if (r.method === 'PUT' && r.query.has('partNumber') && r.outcome === 200 && ++confirmed === 3) void f.s3.kill()
    }
    const first = uploadPrefix({ from: src, to: f.url('run/1'), options }, { heartbeat: (d) => void details.push(d) })
    await expect(first).rejects.toThrow(/UploadPart run\/1\/big\/camera.raw part \d+ failed after 3 tries/)
    f.hooks.onResponse = undefined
    const firstParts = writes(f.proxy).parts.length

    // The last heartbeat holds the upload and every part the server confirmed.
    const recorded = uploadDetailsSchema.parse(details.at(-1)).s3Upload
    expect(recorded.url).toBe('s3://test-bucket/run/1/')
    const state = recorded.multipart['big/camera.raw']!
    expect(state.parts.length).toBeGreaterThanOrEqual(3)
    expect(state.parts.length).toBeLessThan(PARTS)

    // Manifest last: the failed attempt left none, so the prefix is not downloadable.
    await f.s3.restart()
    await expect(downloadPrefix({ from: f.url('run/1'), to: path.join(f.tmp, 'early'), options })).rejects.toThrow(S3ManifestError)

    const mark = f.proxy.requests.length
    const second = await uploadPrefix(
      { from: src, to: f.url('run/1'), options },
      { previousDetails: details.at(-1), heartbeat: (d) => void details.push(d) },
    )
    const w = writes(f.proxy, mark)
    expect(w.creates).toEqual([]) // the recorded upload was continued, not a new one created
    expect(second.partsReused).toBe(state.parts.length)
    expect(second.partsUploaded).toBe(PARTS - state.parts.length)
    expect(w.parts).toHaveLength(PARTS - state.parts.length)
    expect(w.parts.length).toBeLessThan(firstParts)
    expect(w.parts.map((p) => Number(p.split('#')[1]))).not.toEqual(expect.arrayContaining(state.parts.map((p) => p.partNumber)))
    const post = f.proxy.requests.slice(mark).find((r) => r.method === 'POST' && r.query.has('uploadId'))
    expect(post?.query.get('uploadId')).toBe(state.uploadId)
    // Once complete, the record is dropped.
    expect(uploadDetailsSchema.parse(details.at(-1)).s3Upload.multipart).toEqual({})

    const dest = path.join(f.tmp, 'dest')
    await downloadPrefix({ from: f.url('run/1'), to: dest, options })
    expect(await readTree(dest)).toEqual(await readTree(src))
  })

  it.each([
    [
      'ListParts',
      'run/2',
      (r: ProxiedRequest) => r.query.get('uploadId') === 'no-such-upload',
      /recorded upload of run\/2\/big\/camera.raw no longer exists on the server/,
    ],
    [
      'UploadPart',
      'run/3',
      (r: ProxiedRequest) => r.method === 'PUT' && r.query.get('uploadId') === 'no-such-upload',
      /recorded upload of run\/3\/big\/camera.raw is gone from the server/,
    ],
  ])('starts a new upload when %s says the recorded one is gone from the server', async (_op, prefix, gone, message) => {
    const options = { ...f.options, maxAttempts: 2 }
    const previousDetails: UploadDetails = {
      s3Upload: {
        url: `s3://test-bucket/${prefix}/`,
        multipart: {
          'big/camera.raw': {
            uploadId: 'no-such-upload',
            sha256: (await readTree(src)).get('big/camera.raw')!,
            size: PARTS * 5 * MiB - 1000,
            partSize: 5 * MiB,
            parts: [{ partNumber: 1, etag: '"x"' }],
          },
        },
      },
    }
    // As AWS answers for an aborted or expired upload (s3rver accepts parts for any upload id).
    f.hooks.fault = (r) => (gone(r) ? { status: 404, code: 'NoSuchUpload' } : null)
    const logs: string[] = []
    const mark = f.proxy.requests.length
    const res = await uploadPrefix({ from: src, to: f.url(prefix), options }, { previousDetails, log: (m) => void logs.push(m) })
    f.hooks.fault = undefined
    expect(res.partsUploaded).toBe(PARTS)
    expect(writes(f.proxy, mark).creates).toEqual([`/test-bucket/${prefix}/big/camera.raw`])
    expect(logs.join('\n')).toMatch(message)
    const dest = path.join(f.tmp, `dest-${prefix}`)
    await downloadPrefix({ from: f.url(prefix), to: dest, options })
    expect(await readTree(dest)).toEqual(await readTree(src))
  })

  it('does not resume a recorded upload once the file has changed, even at the same size', async () => {
    const options = { ...f.options, concurrency: 1, partConcurrency: 1 }
    const details: UploadDetails[] = []
    let parts = 0
    f.hooks.fault = (r) => (r.method === 'PUT' && r.query.has('partNumber') && ++parts > 3 ? { status: 403, code: 'AccessDenied' } : null)
    await expect(uploadPrefix({ from: src, to: f.url('run/4'), options }, { heartbeat: (d) => void details.push(d) })).rejects.toThrow(/AccessDenied/)
    f.hooks.fault = undefined
    const recorded = uploadDetailsSchema.parse(details.at(-1)).s3Upload.multipart['big/camera.raw']!
    expect(recorded.parts).toHaveLength(3)

    await writeFile(path.join(src, 'big/camera.raw'), randomBytes(recorded.size))
    const mark = f.proxy.requests.length
    const res = await uploadPrefix({ from: src, to: f.url('run/4'), options }, { previousDetails: details.at(-1) })
    expect(res).toMatchObject({ partsReused: 0, partsUploaded: PARTS })
    expect(writes(f.proxy, mark).creates).toEqual(['/test-bucket/run/4/big/camera.raw'])
    const dest = path.join(f.tmp, 'dest-run4')
    await downloadPrefix({ from: f.url('run/4'), to: dest, options })
    expect(await readTree(dest)).toEqual(await readTree(src))
  })
})
