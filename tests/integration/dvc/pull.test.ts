import { execFileSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DvcDigestError, DvcError } from '../../../operators/dvc/errors.ts'
import { manifestBytes, dirOid } from '../../../operators/dvc/manifest.ts'
import { objectKey } from '../../../operators/dvc/object-path.ts'
import { pullDataset } from '../../../operators/dvc/pull.ts'
import { localFolderRemote, type RemoteStore } from '../../../operators/dvc/remote.ts'
import { versionDataset } from '../../../operators/dvc/version-dataset.ts'

let work: string
let repo: string
let store: string
let source: string
const native = { dvcAvailable: async () => false }
const md5 = (b: string | Buffer): string => createHash('md5').update(b).digest('hex')
const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim()
const remoteFile = (oid: string): string => path.join(store, ...objectKey(oid).split('/'))

const FILES: Record<string, string | Buffer> = {
  'shard-0/labels/coco.json': '{"images":[],"annotations":[]}',
  'shard-0/labels/kitti/000001.txt': 'Car 0.00 0 0.00 10.00 20.00 110.00 70.00 1.50 1.60 4.00 1.00 1.00 10.00 0.00\n',
  'shard-0/frames/rgb/000001.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]),
  'shard-1/frames/rgb/000001.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]), // same bytes: one object
  'README.txt': 'carla dataset\n',
  'empty.bin': '',
}

async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true })
    await writeFile(path.join(root, rel), body)
  }
}

async function readTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile())
      out[path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/')] = md5(await readFile(path.join(e.parentPath, e.name)))
  }
  return out
}

const expected = (files: Record<string, string | Buffer>): Record<string, string> =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [k, md5(v)]))

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'forge-pull-'))
  repo = path.join(work, 'registry')
  store = path.join(work, 'store')
  source = path.join(work, 'out')
  await writeTree(source, FILES)
})
afterEach(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('pullDataset', () => {
  it('round trip: a version written by the DVC writer, pulled by its tag into a fresh folder, byte-identical', async () => {
    const v = await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const dest = path.join(work, 'pulled', 'carla')
    // A fresh cache, so every object comes from the remote.
    const r = await pullDataset({ repo, tag: 'carla@v1', dest, cacheDir: path.join(work, 'cache') })
    expect(await readTree(dest)).toEqual(expected(FILES))
    expect(r).toMatchObject({
      dest,
      dataset: 'carla',
      version: 1,
      tag: 'carla@v1',
      commit: v.commit,
      md5: v.md5,
      digest: v.digest,
      nfiles: 6,
      size: v.size,
      remote: { url: store },
      cached: 0,
    })
    expect(r.fetched).toBe(6) // 5 distinct file objects and the manifest
    expect(await readdir(path.join(work, 'pulled'))).toEqual(['carla']) // no staging folder left behind
  })

  it('pulls the exact version asked for, not the latest, and takes the remote from .dvc/config at the tag', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    await writeFile(path.join(source, 'README.txt'), 'changed\n')
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const dest = path.join(work, 'v1')
    await pullDataset({ repo, tag: 'carla@v1', dest })
    expect((await readTree(dest))['README.txt']).toBe(md5('carla dataset\n'))
    await pullDataset({ repo, tag: 'carla@v2', dest })
    expect((await readTree(dest))['README.txt']).toBe(md5('changed\n'))
  })

  it('clones a registry given as a URL', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const dest = path.join(work, 'from-url')
    const r = await pullDataset({ repo: `file://${repo}`, tag: 'carla@v1', dest })
    expect(await readTree(dest)).toEqual(expected(FILES))
    expect(r.fetched).toBe(6) // the clone has no cache: `<dest>.dvc-cache`
    await stat(`${dest}.dvc-cache`)
  })

  it('resume: objects already in the cache with the right md5 are not fetched again; a corrupt cached one is', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const cacheDir = path.join(work, 'cache')
    await pullDataset({ repo, tag: 'carla@v1', dest: path.join(work, 'a'), cacheDir })
    const gets: string[] = []
    const base = localFolderRemote(store)
    const counting: RemoteStore = { ...base, get: (key) => (gets.push(key), base.get!(key)) }
    const again = await pullDataset({ repo, tag: 'carla@v1', dest: path.join(work, 'b'), cacheDir }, { remoteStore: counting })
    expect(again).toMatchObject({ fetched: 0, cached: 6 })
    expect(gets).toEqual([])

    const readmeOid = md5('carla dataset\n')
    const cached = path.join(cacheDir, ...objectKey(readmeOid).split('/'))
    await chmod(cached, 0o644)
    await writeFile(cached, 'bit rot\n')
    const third = await pullDataset({ repo, tag: 'carla@v1', dest: path.join(work, 'c'), cacheDir }, { remoteStore: counting })
    expect(third).toMatchObject({ fetched: 1, cached: 5 })
    expect(gets).toEqual([objectKey(readmeOid)])
    expect(await readTree(path.join(work, 'c'))).toEqual(expected(FILES))
  })

  it('a corrupted object on the remote fails the pull naming the file and both md5s, and writes no dataset', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const oid = md5(FILES['shard-0/labels/coco.json']!)
    await chmod(remoteFile(oid), 0o644)
    await writeFile(remoteFile(oid), '{"images":[],"annotations":[]} ')
    const dest = path.join(work, 'pulled', 'carla')
    const err = await pullDataset({ repo, tag: 'carla@v1', dest, cacheDir: path.join(work, 'cache') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DvcDigestError)
    const e = err as DvcDigestError
    expect(e).toMatchObject({
      file: 'shard-0/labels/coco.json',
      expected: oid,
      actual: md5('{"images":[],"annotations":[]} '),
      reason: 'digest_mismatch',
      nonRetryable: true,
    })
    expect(e.message).toContain('shard-0/labels/coco.json')
    expect(e.message).toContain(oid)
    expect(e.message).toContain(e.actual)
    expect(await readdir(path.join(work, 'pulled')).catch(() => [])).toEqual([])
    // The corrupt bytes never entered the cache under the object's name.
    await expect(stat(path.join(work, 'cache', ...objectKey(oid).split('/')))).rejects.toThrow(/ENOENT/)
  })

  it('a corrupt .dir manifest on the remote is refused against the .dvc file', async () => {
    const v = await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    await chmod(remoteFile(v.md5), 0o644)
    const forged = manifestBytes([{ relpath: 'README.txt', md5: md5('carla dataset\n') }])
    await writeFile(remoteFile(v.md5), forged)
    const err = (await pullDataset({ repo, tag: 'carla@v1', dest: path.join(work, 'd'), cacheDir: path.join(work, 'cache') }).catch(
      (e: unknown) => e,
    )) as DvcDigestError
    expect(err).toBeInstanceOf(DvcDigestError)
    expect(err).toMatchObject({ file: 'carla.dvc', expected: v.digest, actual: md5(forged) })
    await expect(stat(path.join(work, 'd'))).rejects.toThrow(/ENOENT/)
  })

  it('a missing object fails naming the file and its md5', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const oid = md5('carla dataset\n')
    await rm(remoteFile(oid))
    const err = (await pullDataset({ repo, tag: 'carla@v1', dest: path.join(work, 'e'), cacheDir: path.join(work, 'cache') }).catch(
      (e: unknown) => e,
    )) as DvcDigestError
    expect(err).toMatchObject({ file: 'README.txt', expected: oid, actual: 'missing', reason: 'missing_object' })
    expect(err.message).toMatch(/README\.txt: object files\/md5\/.* is missing on the remote/)
  })

  it('a missing tag fails with a clear error listing the versions there are', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const err = (await pullDataset({ repo, tag: 'carla@v7', dest: path.join(work, 'f') }).catch((e: unknown) => e)) as DvcError
    expect(err).toBeInstanceOf(DvcError)
    expect(err.reason).toBe('missing_tag')
    expect(err.message).toMatch(/dataset version carla@v7 not found in the registry repository .*: the versions there are carla@v1/)
    await expect(pullDataset({ repo, tag: 'carla', dest: path.join(work, 'f') })).rejects.toThrow(/dvc pull: tag: NAME@vN expected/)
  })

  it('a failed pull leaves an existing destination exactly as it was (no partial dataset)', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const dest = path.join(work, 'pulled', 'carla')
    await pullDataset({ repo, tag: 'carla@v1', dest })
    const before = await readTree(dest)
    // v2: a manifest whose checkout fails halfway ('a' is a file, so 'a/b' cannot be made), every digest valid.
    await forgeVersion(
      'carla@v2',
      [
        { relpath: 'a', md5: md5('x') },
        { relpath: 'a/b', md5: md5('y') },
        { relpath: 'z', md5: md5('z') },
      ],
      { x: 'x', y: 'y', z: 'z' },
    )
    await expect(pullDataset({ repo, tag: 'carla@v2', dest })).rejects.toThrow()
    expect(await readTree(dest)).toEqual(before)
    expect(await readdir(path.join(work, 'pulled'))).toEqual(['carla'])
  })

  it('an abort stops the pull and leaves no dataset and no staging folder', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    const ac = new AbortController()
    const base = localFolderRemote(store)
    let gets = 0
    const aborting: RemoteStore = { ...base, get: (key) => (++gets === 3 && ac.abort(new Error('cancelled')), base.get!(key)) }
    await expect(
      pullDataset(
        { repo, tag: 'carla@v1', dest: path.join(work, 'pulled', 'carla'), cacheDir: path.join(work, 'cache'), concurrency: 1 },
        { remoteStore: aborting, signal: ac.signal },
      ),
    ).rejects.toThrow(/cancelled|abort/i)
    expect(await readdir(path.join(work, 'pulled')).catch(() => [])).toEqual([])
  })

  it('a manifest name that leaves the destination is refused before anything is fetched', async () => {
    await versionDataset({ repo, path: 'carla', source, dataset: 'carla', remote: { url: store } }, native)
    await forgeVersion(
      'carla@v2',
      [
        { relpath: '../escaped.txt', md5: md5('x') },
        { relpath: 'ok.txt', md5: md5('x') },
      ],
      { x: 'x' },
    )
    const dest = path.join(work, 'pulled', 'carla')
    await expect(pullDataset({ repo, tag: 'carla@v2', dest })).rejects.toThrow(/path "\.\.\/escaped\.txt" is not inside the folder/)
    await expect(stat(path.join(work, 'pulled', 'escaped.txt'))).rejects.toThrow(/ENOENT/)
    await expect(stat(dest)).rejects.toThrow(/ENOENT/)
  })
})

/** Commits a hand-made `.dvc` file pointing at `entries` (objects written to the remote, digests valid) and tags it. */
async function forgeVersion(tag: string, entries: Array<{ relpath: string; md5: string }>, bodies: Record<string, string>): Promise<void> {
  for (const body of Object.values(bodies)) {
    await mkdir(path.dirname(remoteFile(md5(body))), { recursive: true })
    await writeFile(remoteFile(md5(body)), body)
  }
  const manifest = manifestBytes(entries)
  const oid = dirOid(manifest)
  await mkdir(path.dirname(remoteFile(oid)), { recursive: true })
  await writeFile(remoteFile(oid), manifest)
  await writeFile(path.join(repo, 'carla.dvc'), `outs:\n- md5: ${oid}\n  size: 3\n  nfiles: ${entries.length}\n  hash: md5\n  path: carla\n`)
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-am', tag)
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'tag', '-a', tag, '-m', tag)
}
