import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { downloadPrefix, parseManifest, uploadPrefix } from '../../../operators/s3/index.ts'
import { makeFolder, MiB, readTree, startS3Fixture, writes, type S3Fixture } from './helpers/s3-fixture.ts'

const FILES = {
  'a.bin': 0,
  'b.txt': 1_000,
  'frames/000001.png': 70_000,
  'frames/000002.png': 90_000,
  'labels/kitti/000001.txt': 300,
  'big/depth.raw': 12 * MiB + 123, // three 5 MiB parts, the last one short
  'big/lidar.bin': 6 * MiB,
}

describe('s3 upload and download of a prefix (s3rver)', () => {
  let f: S3Fixture
  let src: string
  beforeAll(async () => {
    f = await startS3Fixture()
    src = await makeFolder(path.join(f.tmp, 'src'), FILES)
  })
  afterAll(() => f?.close())

  it('round-trips a folder of small and multipart objects byte for byte, with the digest as metadata and the manifest last', async () => {
    const up = await uploadPrefix({ from: src, to: f.url('shards/one'), options: f.options })
    expect(up).toMatchObject({ objects: 7, uploaded: 7, skipped: 0, partsUploaded: 5, manifest: 's3://test-bucket/shards/one/manifest.json' })
    const w = writes(f.proxy)
    expect(w.creates.sort()).toEqual(['/test-bucket/shards/one/big/depth.raw', '/test-bucket/shards/one/big/lidar.bin'])
    expect(w.parts).toHaveLength(5)
    // Manifest last: no request of the upload comes after its PUT.
    const last = f.proxy.requests.at(-1)!
    expect([last.method, last.path]).toEqual(['PUT', '/test-bucket/shards/one/manifest.json'])
    // Each body went out signed with its true SHA-256 (what AWS checks), taken from our digests, never unsigned.
    const sent = f.proxy.requests.filter((r) => r.method === 'PUT')
    expect(sent).toHaveLength(11) // five small objects, five parts, the manifest
    for (const r of sent) expect(r.signedPayload, r.path).toBe(r.bodySha256)

    const head = await f.direct.send(new HeadObjectCommand({ Bucket: 'test-bucket', Key: 'shards/one/big/depth.raw' }))
    const local = await readTree(src)
    expect(head.Metadata?.sha256).toBe(local.get('big/depth.raw'))

    const got = await f.direct.send(new GetObjectCommand({ Bucket: 'test-bucket', Key: 'shards/one/manifest.json' }))
    const manifest = parseManifest(await got.Body!.transformToByteArray(), 'manifest')
    expect(manifest.objects.map((o) => o.key)).toEqual(Object.keys(FILES).sort())
    expect(manifest.totalBytes).toBe(Object.values(FILES).reduce((a, b) => a + b, 0))

    const dest = path.join(f.tmp, 'dest')
    const mark = f.proxy.requests.length
    const down = await downloadPrefix({ from: f.url('shards/one/'), to: dest, options: f.options })
    expect(down).toMatchObject({ objects: 7, downloaded: 7, skipped: 0 })
    expect(await readTree(dest)).toEqual(local)
    // Objects at or above the multipart threshold come down in ranges of partSize.
    const ranges = f.proxy.requests
      .slice(mark)
      .filter((r) => r.path.endsWith('/big/depth.raw'))
      .map((r) => r.range)
      .sort()
    expect(ranges).toEqual([`bytes=0-${5 * MiB - 1}`, `bytes=${10 * MiB}-${12 * MiB + 122}`, `bytes=${5 * MiB}-${10 * MiB - 1}`])
  })

  it('skips objects already present with the same digest, and re-sends only a changed one', async () => {
    const before = f.proxy.requests.length
    const again = await uploadPrefix({ from: src, to: f.url('shards/one'), options: f.options })
    expect(again).toMatchObject({ uploaded: 0, skipped: 7, partsUploaded: 0 })
    // Only the manifest is written again.
    expect(writes(f.proxy, before)).toEqual({ puts: ['/test-bucket/shards/one/manifest.json'], parts: [], creates: [] })

    // Same size, other bytes: only the digest tells the object on the server is stale.
    await writeFile(path.join(src, 'frames/000002.png'), randomBytes(FILES['frames/000002.png']))
    const mark = f.proxy.requests.length
    const changed = await uploadPrefix({ from: src, to: f.url('shards/one'), options: f.options })
    expect(changed).toMatchObject({ uploaded: 1, skipped: 6 })
    const reqs = f.proxy.requests.slice(mark)
    expect(writes(f.proxy, mark).puts).toEqual(['/test-bucket/shards/one/frames/000002.png', '/test-bucket/shards/one/manifest.json'])
    // The old manifest is deleted before the first changed object goes up, so it never vouches for the new bytes.
    const del = reqs.findIndex((r) => r.method === 'DELETE' && r.path.endsWith('/manifest.json'))
    const put = reqs.findIndex((r) => r.method === 'PUT' && r.path.endsWith('/000002.png'))
    expect(del).toBeGreaterThanOrEqual(0)
    expect(del).toBeLessThan(put)
  })

  it('a second download into the same folder keeps the files that already match', async () => {
    const dest = path.join(f.tmp, 'dest2')
    await downloadPrefix({ from: f.url('shards/one'), to: dest, options: f.options })
    await writeFile(path.join(dest, 'b.txt'), 'tampered locally')
    const before = f.proxy.requests.length
    const down = await downloadPrefix({ from: f.url('shards/one'), to: dest, options: f.options })
    expect(down).toMatchObject({ downloaded: 1, skipped: 6 })
    const gets = f.proxy.requests
      .slice(before)
      .filter((r) => r.method === 'GET')
      .map((r) => r.path)
    expect(gets).toEqual(['/test-bucket/shards/one/manifest.json', '/test-bucket/shards/one/b.txt'])
    expect(await readTree(dest)).toEqual(await readTree(src))
  })
})
