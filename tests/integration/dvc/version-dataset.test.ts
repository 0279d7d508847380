import { execFileSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { md5File, type FileHasher } from '../../../operators/dvc/hash-file.ts'
import { localFolderRemote, type RemoteStore } from '../../../operators/dvc/remote.ts'
import { versionDataset, type DvcEnv } from '../../../operators/dvc/version-dataset.ts'

const GOLDEN_DVC = 'outs:\n- md5: f03ca53dff6776871f4047fb9e72f691.dir\n  size: 16\n  nfiles: 3\n  hash: md5\n  path: data\n'
const GOLDEN_MANIFEST =
  '[{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "a.txt"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "empty.bin"}, {"md5": "ef4330228809c42919ada65a11393fd1", "relpath": "sub/b.csv"}]'

let work: string
let repo: string
let store: string

const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim()
const native: DvcEnv = { dvcAvailable: async () => false }

async function writeGoldenTree(): Promise<void> {
  await mkdir(path.join(repo, 'data', 'sub'), { recursive: true })
  await writeFile(path.join(repo, 'data', 'a.txt'), 'hello\n')
  await writeFile(path.join(repo, 'data', 'empty.bin'), '')
  await writeFile(path.join(repo, 'data', 'sub', 'b.csv'), 'x,y\r\n1,2\r\n')
}

function countingHasher(): { hasher: FileHasher; calls: string[] } {
  const calls: string[] = []
  return { calls, hasher: async (f) => (calls.push(path.basename(f)), md5File(f)) }
}

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'forge-dvc-'))
  repo = path.join(work, 'registry')
  store = path.join(work, 'store')
  await mkdir(repo)
  await writeGoldenTree()
})
afterEach(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('versionDataset (native writer)', () => {
  it('writes the reference .dvc file, .gitignore, cache and remote layout, then commits and tags', async () => {
    const v = await versionDataset({ repo, path: 'data', dataset: 'carla', remote: { url: store } }, native)
    expect(await readFile(path.join(repo, 'data.dvc'), 'utf8')).toBe(GOLDEN_DVC)
    expect(await readFile(path.join(repo, '.gitignore'), 'utf8')).toBe('/data\n')
    expect(v).toMatchObject({
      md5: 'f03ca53dff6776871f4047fb9e72f691.dir',
      digest: 'f03ca53dff6776871f4047fb9e72f691',
      size: 16,
      nfiles: 3,
      engine: 'native',
      tag: 'carla@v1',
      version: 1,
      created: true,
    })
    expect(v.remote).toMatchObject({ url: store, uploaded: 4, skipped: 0 })

    const cache = path.join(repo, '.dvc', 'cache', 'files', 'md5')
    expect(await readFile(path.join(cache, 'f0', '3ca53dff6776871f4047fb9e72f691.dir'), 'utf8')).toBe(GOLDEN_MANIFEST)
    expect(await readFile(path.join(cache, 'b1', '946ac92492d2347c6235b4d2611184'), 'utf8')).toBe('hello\n')
    expect(await readFile(path.join(cache, 'ef', '4330228809c42919ada65a11393fd1'), 'utf8')).toBe('x,y\r\n1,2\r\n')
    expect((await stat(path.join(cache, 'b1', '946ac92492d2347c6235b4d2611184'))).mode & 0o777).toBe(0o444)
    for (const key of [
      'f0/3ca53dff6776871f4047fb9e72f691.dir',
      'b1/946ac92492d2347c6235b4d2611184',
      'd4/1d8cd98f00b204e9800998ecf8427e',
      'ef/4330228809c42919ada65a11393fd1',
    ]) {
      expect(await readFile(path.join(store, 'files', 'md5', key))).toEqual(await readFile(path.join(cache, key)))
    }

    expect(await readFile(path.join(repo, '.dvc', '.gitignore'), 'utf8')).toBe('/config.local\n/tmp\n/cache\n')
    expect(await readFile(path.join(repo, '.dvc', 'config'), 'utf8')).toBe(`[core]\n    remote = storage\n['remote "storage"']\n    url = ${store}\n`)
    expect(git('tag', '--list')).toBe('carla@v1')
    expect(git('rev-parse', 'carla@v1^{commit}')).toBe(v.commit)
    expect(git('show', 'carla@v1:data.dvc') + '\n').toBe(GOLDEN_DVC)
    expect(git('ls-files').split('\n').sort()).toEqual(['.dvc/.gitignore', '.dvc/config', '.dvcignore', '.gitignore', 'data.dvc'])
  })

  it('the same data again makes no new version; changed data makes v2', async () => {
    const v1 = await versionDataset({ repo, path: 'data', dataset: 'carla', remote: { url: store } }, native)
    const again = await versionDataset({ repo, path: 'data', dataset: 'carla', remote: { url: store } }, native)
    expect(again).toMatchObject({ tag: 'carla@v1', commit: v1.commit, created: false })
    expect(again.remote).toMatchObject({ uploaded: 0, skipped: 4 })
    expect(git('rev-list', '--count', 'HEAD')).toBe('1')

    await writeFile(path.join(repo, 'data', 'c.txt'), 'more\n')
    const v2 = await versionDataset({ repo, path: 'data', dataset: 'carla', remote: { url: store } }, native)
    expect(v2).toMatchObject({ tag: 'carla@v2', version: 2, nfiles: 4, size: 21, created: true })
    expect(git('tag', '--list').split('\n')).toEqual(['carla@v1', 'carla@v2'])
    expect(git('show', 'carla@v1:data.dvc') + '\n').toBe(GOLDEN_DVC)
  })

  it('unchanged files are not hashed again (state cache by inode, size and mtime)', async () => {
    const first = countingHasher()
    const r1 = await versionDataset({ repo, path: 'data' }, { ...native, hasher: first.hasher })
    expect(first.calls.sort()).toEqual(['a.txt', 'b.csv', 'empty.bin'])
    expect(r1).toMatchObject({ hashed: 3, reused: 0 })
    JSON.parse(await readFile(path.join(repo, '.dvc', 'tmp', 'forge-md5-state.json'), 'utf8'))

    const second = countingHasher()
    const r2 = await versionDataset({ repo, path: 'data' }, { ...native, hasher: second.hasher })
    expect(second.calls).toEqual([])
    expect(r2).toMatchObject({ hashed: 0, reused: 3, md5: r1.md5 })

    // Same size, new mtime: hashed again (and the content change is seen).
    const a = path.join(repo, 'data', 'a.txt')
    await writeFile(a, 'HELLO\n')
    await utimes(a, new Date(), new Date(Date.now() + 5000))
    const third = countingHasher()
    const r3 = await versionDataset({ repo, path: 'data' }, { ...native, hasher: third.hasher })
    expect(third.calls).toEqual(['a.txt'])
    expect(r3.md5).not.toBe(r1.md5)
  })

  it('a failed push leaves no commit, no tag and no .dir object on the remote', async () => {
    const local = localFolderRemote(store)
    const failing: RemoteStore = {
      url: store,
      head: local.head,
      put: async (key, body) => {
        if (key.startsWith('files/md5/ef/')) throw new Error('connection reset')
        return local.put(key, body)
      },
    }
    await expect(
      versionDataset({ repo, path: 'data', dataset: 'carla', remote: { url: store } }, { ...native, remoteStore: failing }),
    ).rejects.toMatchObject({
      name: 'DvcPushError',
      nonRetryable: false,
      message: expect.stringMatching(/failed for 1 of 3 files.*connection reset/),
    })
    expect(git('tag', '--list')).toBe('')
    expect(execFileSync('git', ['rev-list', '--all', '--count'], { cwd: repo, encoding: 'utf8' }).trim()).toBe('0')
    await expect(stat(path.join(store, 'files', 'md5', 'f0', '3ca53dff6776871f4047fb9e72f691.dir'))).rejects.toThrow(/ENOENT/)

    // The retry, with the remote back, pushes only what is missing and tags v1.
    const v = await versionDataset({ repo, path: 'data', dataset: 'carla', remote: { url: store } }, native)
    expect(v).toMatchObject({ tag: 'carla@v1', created: true })
    expect(v.remote).toMatchObject({ uploaded: 2, skipped: 2 })
  })

  it('refuses paths that leave the repository, and bad dataset names', async () => {
    await mkdir(path.join(work, 'outside'))
    await expect(versionDataset({ repo, path: '../outside' }, native)).rejects.toMatchObject({ name: 'UnsafePathError', nonRetryable: true })
    await expect(versionDataset({ repo, path: path.join(work, 'outside') }, native)).rejects.toMatchObject({ name: 'UnsafePathError' })
    await expect(versionDataset({ repo, path: '.' }, native)).rejects.toMatchObject({ name: 'UnsafePathError' })
    await expect(versionDataset({ repo, path: '.dvc/cache' }, native)).rejects.toThrow(/inside \.dvc/)
    await expect(versionDataset({ repo, path: 'data', dataset: '../x' }, native)).rejects.toMatchObject({ name: 'DvcOptionsError', field: 'dataset' })
    await expect(versionDataset({ repo, path: 'data', remote: { url: 's3://bucket/p' } }, native)).rejects.toThrow(/pass an object store/)
  })

  it('skips .git/.hg/.dvc folders inside the data, refuses a .dvcignore there, and tracks single files', async () => {
    await mkdir(path.join(repo, 'data', '.git'))
    await writeFile(path.join(repo, 'data', '.git', 'HEAD'), 'x')
    await mkdir(path.join(repo, 'data', 'sub', '.dvc'))
    await writeFile(path.join(repo, 'data', 'sub', '.dvc', 'config'), 'x')
    await mkdir(path.join(repo, 'data', 'emptydir'))
    expect((await versionDataset({ repo, path: 'data' }, native)).md5).toBe('f03ca53dff6776871f4047fb9e72f691.dir')

    await writeFile(path.join(repo, 'model.bin'), '4')
    await chmod(path.join(repo, 'model.bin'), 0o755)
    await versionDataset({ repo, path: 'model.bin' }, native)
    expect(await readFile(path.join(repo, 'model.bin.dvc'), 'utf8')).toBe(
      'outs:\n- md5: a87ff679a2f3e71d9181a67b7542122c\n  size: 1\n  isexec: true\n  hash: md5\n  path: model.bin\n',
    )
    expect(await readFile(path.join(repo, '.gitignore'), 'utf8')).toBe('/data\n/model.bin\n')

    await writeFile(path.join(repo, 'data', 'sub', '.dvcignore'), '*.tmp\n')
    await expect(versionDataset({ repo, path: 'data' }, native)).rejects.toThrow(/\.dvcignore inside a tracked directory/)
  })

  it('a nested target gets its .dvc file and .gitignore entry beside it', async () => {
    await mkdir(path.join(repo, 'sets'))
    await writeFile(path.join(repo, 'sets', '.gitignore'), '*.log') // no final newline: DVC adds one first
    execFileSync('mv', [path.join(repo, 'data'), path.join(repo, 'sets', 'run[1]')])
    const v = await versionDataset({ repo, path: 'sets/run[1]', dataset: 'runs', remote: { url: store } }, native)
    expect(v.dvcFile).toBe('sets/run[1].dvc')
    expect(await readFile(path.join(repo, 'sets', 'run[1].dvc'), 'utf8')).toBe(GOLDEN_DVC.replace('path: data', 'path: run[1]'))
    expect(await readFile(path.join(repo, 'sets', '.gitignore'), 'utf8')).toBe('*.log\n/run\\[1\\]\n')
    expect(git('ls-files')).toContain('sets/.gitignore')
  })
})

describe('versionDataset with a source outside the repository (like dvc add --out)', () => {
  it('writes the same .dvc file, cache and remote objects, and leaves the workspace without the data', async () => {
    const outside = path.join(work, 'frames-build')
    execFileSync('mv', [path.join(repo, 'data'), outside])
    const v = await versionDataset({ repo, path: 'sets/data', source: outside, dataset: 'carla', remote: { url: store } }, native)
    expect(await readFile(path.join(repo, 'sets', 'data.dvc'), 'utf8')).toBe(GOLDEN_DVC)
    expect(await readFile(path.join(repo, 'sets', '.gitignore'), 'utf8')).toBe('/data\n')
    expect(v).toMatchObject({ tag: 'carla@v1', path: 'sets/data', dvcFile: 'sets/data.dvc', remote: { uploaded: 4 } })
    await expect(stat(path.join(repo, 'sets', 'data'))).rejects.toThrow(/ENOENT/)
    expect(await readFile(path.join(store, 'files', 'md5', 'f0', '3ca53dff6776871f4047fb9e72f691.dir'), 'utf8')).toBe(GOLDEN_MANIFEST)

    await mkdir(path.join(repo, 'taken'))
    await expect(versionDataset({ repo, path: 'taken', source: outside }, native)).rejects.toThrow(/exists .*with a source it must not/)
    await expect(versionDataset({ repo, path: 'x', source: path.join(work, 'nope') }, native)).rejects.toThrow(/source "[^"]+nope" does not exist/)
  })
})
