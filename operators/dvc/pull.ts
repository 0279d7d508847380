/**
 * `dvc pull` of one exact dataset version: the `.dvc` file at the tag `NAME@vN`, its `.dir` manifest and every
 * file object fetched from the remote into the cache, each verified against its md5 (docs/dvc-format.md §11),
 * then checked out into a temp folder beside `dest` and renamed into place. A missing or corrupt object fails
 * the pull before `dest` is touched, so a failed pull never leaves a partial dataset; verified objects stay in
 * the cache, so the next attempt fetches only what is still missing.
 */
import { constants } from 'node:fs'
import { chmod, copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { insideFolder, type TaskContext } from '../../runtime/index.ts'
import { cacheObjectPath } from './cache.ts'
import { parseDvcFile } from './dvc-file.ts'
import { DvcDigestError, DvcError } from './errors.ts'
import { expectedMd5, fetchObject } from './fetch-object.ts'
import { parseDvcPullOptions, VERSION_TAG, type DvcPullInput } from './pull-options.ts'
import { defaultRemoteUrl, openRegistry, resolveTag, showAtTag } from './registry-checkout.ts'
import { localFolderRemote, type RemoteStore } from './remote.ts'
import { parseManifest, type PullEntry } from './read-manifest.ts'

export interface PullEnv {
  /** The remote's object store, required for an `s3://` URL (`s3Remote(url, client)`); built for a folder. */
  remoteStore?: RemoteStore
  log?: TaskContext['log']
  progress?(done: number, total: number | null, unit: string): void
  signal?: AbortSignal
}

export interface PulledDataset {
  /** Absolute path of the dataset folder. */
  dest: string
  dataset: string
  version: number
  tag: string
  commit: string
  /** As in the `.dvc` file (ends in '.dir'). */
  md5: string
  /** The md5 without '.dir'. */
  digest: string
  nfiles: number
  size: number
  remote: { url: string }
  /** Objects fetched now, and objects found (and re-verified) in the cache. */
  fetched: number
  cached: number
  bytesFetched: number
}

const isUrl = (u: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//.test(u)
const suffix = (): string => `${process.pid}-${Math.random().toString(36).slice(2, 8)}`

export async function pullDataset(input: DvcPullInput, env: PullEnv = {}): Promise<PulledDataset> {
  const opts = parseDvcPullOptions(input)
  const log = env.log ?? (() => {})
  const [, dataset, n] = VERSION_TAG.exec(opts.tag)!
  const registry = await openRegistry(opts.repo, env.signal)
  const dest = path.resolve(opts.dest)
  const staging = path.join(path.dirname(dest), `.${path.basename(dest)}.pull-${suffix()}.tmp`)
  try {
    const commit = await resolveTag(registry.root, opts.tag)
    const tracked = opts.path ?? dataset!
    insideFolder(registry.root, tracked) // a tracked path never names a file outside the repository
    const dvcText = await showAtTag(registry.root, opts.tag, `${tracked}.dvc`)
    if (dvcText === null)
      throw new DvcError(`${opts.tag} (commit ${commit.slice(0, 12)}) holds no ${tracked}.dvc; pass the tracked path as 'path'`, 'missing_dvc_file')
    const out = parseDvcFile(dvcText)
    if (!out.md5.endsWith('.dir'))
      throw new DvcError(`${tracked}.dvc at ${opts.tag} tracks a single file (${out.md5}); only directories are pulled`, 'not_a_directory')

    const config = await showAtTag(registry.root, opts.tag, '.dvc/config')
    const url = opts.remote?.url ?? (config && defaultRemoteUrl(config))
    if (!url) throw new DvcError(`no remote: pass remote.url, or set a default remote in .dvc/config at ${opts.tag}`, 'no_remote')
    const remoteUrl = isUrl(url) ? url : path.resolve(url)
    const store = env.remoteStore ?? (isUrl(url) ? null : localFolderRemote(remoteUrl))
    if (!store?.get)
      throw new DvcError(
        `remote ${remoteUrl}: pass an object store that can get objects for this URL scheme; only local folders are built in`,
        'no_remote_store',
      )
    const cacheDir = path.resolve(opts.cacheDir ?? (registry.cloned ? `${dest}.dvc-cache` : path.join(registry.root, '.dvc', 'cache')))

    const manifestOutcome = await fetchObject(cacheDir, out.md5, store, env.signal)
    if (manifestOutcome.kind === 'missing')
      throw new DvcDigestError(
        `${opts.tag}: the manifest ${out.md5} (of ${tracked}.dvc) is not on the remote ${remoteUrl}`,
        `${tracked}.dvc`,
        expectedMd5(out.md5),
        'missing',
      )
    if (manifestOutcome.kind === 'corrupt') {
      throw new DvcDigestError(
        `${opts.tag}: the manifest on the remote ${remoteUrl} is corrupt: ${tracked}.dvc expects md5 ${expectedMd5(out.md5)}, its bytes hash to ${manifestOutcome.actual}`,
        `${tracked}.dvc`,
        expectedMd5(out.md5),
        manifestOutcome.actual,
      )
    }
    const entries = parseManifest(await readFile(cacheObjectPath(cacheDir, out.md5)), out.md5, staging)
    if (out.nfiles !== undefined && out.nfiles !== entries.length)
      throw new DvcError(`${tracked}.dvc says ${out.nfiles} files, its manifest lists ${entries.length}`, 'bad_manifest')

    const counts = await fetchFiles(cacheDir, entries, store, opts.concurrency, env)
    const size = await checkout(cacheDir, entries, staging, env.signal)
    await replaceFolder(staging, dest)
    log(`pulled ${opts.tag} into ${dest}: ${entries.length} files, ${size} bytes`, { ...counts, md5: out.md5, remote: remoteUrl })
    return {
      dest,
      dataset: dataset!,
      version: Number(n),
      tag: opts.tag,
      commit,
      md5: out.md5,
      digest: expectedMd5(out.md5),
      nfiles: entries.length,
      size,
      remote: { url: remoteUrl },
      ...counts,
      cached: counts.cached + (manifestOutcome.kind === 'cached' ? 1 : 0),
      fetched: counts.fetched + (manifestOutcome.kind === 'fetched' ? 1 : 0),
    }
  } finally {
    await rm(staging, { recursive: true, force: true })
    await registry.cleanup()
  }
}

async function fetchFiles(
  cacheDir: string,
  entries: PullEntry[],
  store: RemoteStore,
  concurrency: number,
  env: PullEnv,
): Promise<{ fetched: number; cached: number; bytesFetched: number }> {
  const unique = [...new Map(entries.map((e) => [e.md5, e])).values()]
  const counts = { fetched: 0, cached: 0, bytesFetched: 0 }
  const failures: DvcDigestError[] = []
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      env.signal?.throwIfAborted()
      const e = unique[next++]!
      const r = await fetchObject(cacheDir, e.md5, store, env.signal)
      if (r.kind === 'cached') counts.cached++
      else if (r.kind === 'fetched') (counts.fetched++, (counts.bytesFetched += r.bytes))
      else if (r.kind === 'missing')
        failures.push(
          new DvcDigestError(`${e.relpath}: object ${r.key} (md5 ${e.md5}) is missing on the remote ${store.url}`, e.relpath, e.md5, 'missing'),
        )
      else
        failures.push(
          new DvcDigestError(`${e.relpath}: expected md5 ${e.md5}, the remote's object hashes to ${r.actual}`, e.relpath, e.md5, r.actual),
        )
      env.progress?.(++done, unique.length, 'objects verified')
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, unique.length)) }, worker))
  if (failures.length) {
    const first = failures[0]!
    const more =
      failures.length > 1
        ? ` (and ${failures.length - 1} more: ${failures
            .slice(1, 4)
            .map((f) => f.file)
            .join(', ')})`
        : ''
    throw new DvcDigestError(
      `pull refused, nothing was written to the destination: ${first.message}${more}`,
      first.file,
      first.expected,
      first.actual,
    )
  }
  return counts
}

/** Copies every verified object to its name under `staging`; returns the bytes written. */
async function checkout(cacheDir: string, entries: PullEntry[], staging: string, signal?: AbortSignal): Promise<number> {
  await mkdir(staging, { recursive: true })
  let size = 0
  for (const e of entries) {
    signal?.throwIfAborted()
    await mkdir(path.dirname(e.target), { recursive: true })
    // A reflink where the filesystem has them, else a copy (DVC's default cache.type); writable, unlike the cache.
    await copyFile(cacheObjectPath(cacheDir, e.md5), e.target, constants.COPYFILE_FICLONE)
    await chmod(e.target, 0o644)
    size += (await stat(e.target)).size
  }
  return size
}

/** Puts `staging` at `dest`; an existing `dest` is moved aside first and removed only once the new one is in place. */
async function replaceFolder(staging: string, dest: string): Promise<void> {
  const old = await stat(dest).then(
    () => `${dest}.old-${suffix()}`,
    () => null,
  )
  if (old) await rename(dest, old)
  try {
    await rename(staging, dest)
  } catch (err) {
    if (old) await rename(old, dest)
    throw err
  }
  if (old) await rm(old, { recursive: true, force: true })
}
