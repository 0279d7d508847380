import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pullDataset } from '../../../operators/dvc/pull.ts'
import { s3Remote } from '../../../operators/dvc/s3-remote.ts'
import { versionDataset } from '../../../operators/dvc/version-dataset.ts'

// Just enough of S3 (path-style HEAD, PUT and GET) to see which keys and bytes the remote writes.
let objects: Map<string, Buffer>
let server: Server
let endpoint: string
let work: string
let failPuts = 0

beforeEach(async () => {
  objects = new Map()
  failPuts = 0
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const key = decodeURIComponent(new URL(req.url!, 'http://s3').pathname.slice(1))
      if (req.method === 'HEAD') {
        res.writeHead(objects.has(key) ? 200 : 404, { 'content-length': String(objects.get(key)?.length ?? 0) }).end()
      } else if (req.method === 'PUT') {
        if (failPuts-- > 0)
          return void res
            .writeHead(403, { 'content-type': 'application/xml' })
            .end('<Error><Code>AccessDenied</Code><Message>denied</Message></Error>')
        objects.set(key, Buffer.concat(chunks))
        res.writeHead(200, { etag: '"x"' }).end()
      } else if (req.method === 'GET') {
        const body = objects.get(key)
        if (!body)
          return void res
            .writeHead(404, { 'content-type': 'application/xml' })
            .end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>')
        res.writeHead(200, { 'content-length': String(body.length) }).end(body)
      } else res.writeHead(405).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  work = await mkdtemp(path.join(tmpdir(), 'forge-dvc-s3-'))
  await mkdir(path.join(work, 'repo', 'data', 'sub'), { recursive: true })
  await writeFile(path.join(work, 'repo', 'data', 'a.txt'), 'hello\n')
  await writeFile(path.join(work, 'repo', 'data', 'empty.bin'), '')
  await writeFile(path.join(work, 'repo', 'data', 'sub', 'b.csv'), 'x,y\r\n1,2\r\n')
})
afterEach(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  await rm(work, { recursive: true, force: true })
})

const client = (): S3Client =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  })

describe('S3 remote', () => {
  it('pushes objects to <bucket>/<prefix>/files/md5/xx/rest with their raw bytes, the .dir last', async () => {
    const url = 's3://datasets/dvcstore'
    const s3 = client()
    const v = await versionDataset(
      { repo: path.join(work, 'repo'), path: 'data', dataset: 'carla', remote: { url } },
      { remoteStore: s3Remote(url, s3), dvcAvailable: async () => false },
    )
    expect(v).toMatchObject({ tag: 'carla@v1', remote: { url, uploaded: 4 } })
    expect([...objects.keys()].sort()).toEqual([
      'datasets/dvcstore/files/md5/b1/946ac92492d2347c6235b4d2611184',
      'datasets/dvcstore/files/md5/d4/1d8cd98f00b204e9800998ecf8427e',
      'datasets/dvcstore/files/md5/ef/4330228809c42919ada65a11393fd1',
      'datasets/dvcstore/files/md5/f0/3ca53dff6776871f4047fb9e72f691.dir',
    ])
    expect([...objects.keys()].at(-1)).toMatch(/\.dir$/) // inserted last
    expect(objects.get('datasets/dvcstore/files/md5/ef/4330228809c42919ada65a11393fd1')!.toString()).toBe('x,y\r\n1,2\r\n')
    const again = await versionDataset(
      { repo: path.join(work, 'repo'), path: 'data', dataset: 'carla', remote: { url } },
      { remoteStore: s3Remote(url, s3), dvcAvailable: async () => false },
    )
    expect(again.remote).toMatchObject({ uploaded: 0, skipped: 4 })
    s3.destroy()
  })

  it('a refused PUT fails the push and no tag is made', async () => {
    failPuts = 100
    const url = 's3://datasets'
    const s3 = client()
    await expect(
      versionDataset(
        { repo: path.join(work, 'repo'), path: 'data', dataset: 'carla', remote: { url } },
        { remoteStore: s3Remote(url, s3), dvcAvailable: async () => false },
      ),
    ).rejects.toThrow(/push to s3:\/\/datasets failed for 3 of 3 files/)
    expect(objects.size).toBe(0)
    s3.destroy()
  })

  it('pulls a version back from S3 with GetObject, verified; a missing key fails naming the file', async () => {
    const url = 's3://datasets/dvcstore'
    const s3 = client()
    await versionDataset(
      { repo: path.join(work, 'repo'), path: 'data', dataset: 'carla', remote: { url } },
      { remoteStore: s3Remote(url, s3), dvcAvailable: async () => false },
    )
    const dest = path.join(work, 'pulled')
    const r = await pullDataset(
      { repo: path.join(work, 'repo'), tag: 'carla@v1', path: 'data', dest, cacheDir: path.join(work, 'cache') },
      { remoteStore: s3Remote(url, s3) },
    )
    expect(r).toMatchObject({ fetched: 4, cached: 0, remote: { url }, md5: 'f03ca53dff6776871f4047fb9e72f691.dir' })
    expect(await readFile(path.join(dest, 'sub', 'b.csv'), 'utf8')).toBe('x,y\r\n1,2\r\n')
    objects.delete('datasets/dvcstore/files/md5/b1/946ac92492d2347c6235b4d2611184')
    await expect(
      pullDataset(
        { repo: path.join(work, 'repo'), tag: 'carla@v1', path: 'data', dest: path.join(work, 'again'), cacheDir: path.join(work, 'cache2') },
        { remoteStore: s3Remote(url, s3) },
      ),
    ).rejects.toThrow(/a\.txt: object files\/md5\/b1\/946ac92492d2347c6235b4d2611184 .* is missing on the remote s3:\/\/datasets\/dvcstore/)
    s3.destroy()
  })
})
