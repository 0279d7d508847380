/**
 * A dataset version end to end: track the path in the registry repository (natively, or with `dvc` when it is
 * on PATH), push its objects to the remote, and only then commit and tag `<dataset>@v<N>`. A push that fails
 * throws before git is touched, so there is no commit and no tag for data the remote does not fully hold.
 */
import { mkdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { insideFolder, type TaskContext } from '../../runtime/index.ts'
import type { BuiltOutput } from './build-tree.ts'
import { commitVersion } from './commit-version.ts'
import { parseDvcFile } from './dvc-file.ts'
import { cliAdd, cliPush, dvcOnPath } from './dvc-cli.ts'
import { DvcError } from './errors.ts'
import { ensureGitRepo } from './git.ts'
import type { FileHasher } from './hash-file.ts'
import { nativeAdd } from './native-add.ts'
import { pathExists } from './object-file.ts'
import { parseDvcAddOptions, type DvcAddInput, type DvcAddOptions } from './options.ts'
import { pushOutput, type PushResult } from './push.ts'
import { localFolderRemote, type RemoteStore } from './remote.ts'
import { ensureDvcLayout } from './repo-layout.ts'
import { STATE_FILE_NAME } from './state-cache.ts'

export interface DvcEnv {
  /** The remote's object store; required for an `s3://` URL (head/put from an S3 client), built for a folder. */
  remoteStore?: RemoteStore
  hasher?: FileHasher
  log?: TaskContext['log']
  progress?(done: number, total: number | null, unit: string): void
  signal?: AbortSignal
  /** Whether the `dvc` CLI can be used (default: `dvc --version` succeeds). */
  dvcAvailable?: () => Promise<boolean>
}

export interface DatasetVersion {
  /** Absolute path of the registry repository. */
  repo: string
  /** The tracked path and its `.dvc` file, repository-relative. */
  path: string
  dvcFile: string
  dvcText: string
  /** As in the `.dvc` file (directories end in '.dir'). */
  md5: string
  /** The md5 without '.dir': the content digest to cite elsewhere (32 hex). */
  digest: string
  size: number
  nfiles: number | null
  engine: 'native' | 'dvc'
  /** Native engine only: files hashed now and digests taken from the state cache. */
  hashed: number | null
  reused: number | null
  remote: ({ name: string; url: string } & Partial<PushResult>) | null
  dataset: string | null
  version: number | null
  tag: string | null
  commit: string | null
  /** False when the latest tag already held this content (nothing new was committed). */
  created: boolean | null
}

interface Tracked {
  dvcFile: string
  dvcText: string
  hashed: number | null
  reused: number | null
  pushed: PushResult | null
  /** Native engine only: what to push. */
  built?: BuiltOutput
}

async function trackNative(
  repoRoot: string,
  target: string,
  rel: string,
  opts: DvcAddOptions,
  env: DvcEnv,
  log: NonNullable<DvcEnv['log']>,
): Promise<Tracked> {
  const added = await nativeAdd(
    target,
    {
      cacheDir: path.join(repoRoot, '.dvc', 'cache'),
      stateFile: opts.stateFile ?? path.join(repoRoot, '.dvc', 'tmp', STATE_FILE_NAME),
      hasher: env.hasher,
      concurrency: opts.concurrency,
      progress: env.progress,
      signal: env.signal,
    },
    opts.source ? path.resolve(opts.source) : target,
  )
  log(`tracked ${rel}: ${added.built.oid}`, { files: added.built.files.length, hashed: added.hashed, reused: added.reused, bytes: added.built.size })
  return { dvcFile: added.dvcFile, dvcText: added.dvcText, hashed: added.hashed, reused: added.reused, pushed: null, built: added.built }
}

const isUrl = (u: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//.test(u)

export async function versionDataset(input: DvcAddInput, env: DvcEnv = {}): Promise<DatasetVersion> {
  const opts = parseDvcAddOptions(input)
  const log = env.log ?? (() => {})
  const repoRoot = path.resolve(opts.repo)
  const target = insideFolder(repoRoot, opts.path) // refuses a path that leaves the repository
  const rel = path.relative(repoRoot, target).split(path.sep).join('/')
  if (/^(\.dvc|\.git)(\/|$)/.test(rel))
    throw new DvcError(`path ${JSON.stringify(opts.path)} is inside ${rel.split('/')[0]}, which cannot be tracked`, 'bad_path')
  const data = opts.source ? path.resolve(opts.source) : target
  try {
    await stat(data)
  } catch {
    throw new DvcError(
      opts.source ? `source ${JSON.stringify(opts.source)} does not exist` : `path ${JSON.stringify(opts.path)} does not exist in ${repoRoot}`,
      'missing_path',
    )
  }
  if (opts.source && (await pathExists(target))) {
    throw new DvcError(
      `path ${JSON.stringify(opts.path)} exists in ${repoRoot}; with a source it must not (the workspace copy would not match)`,
      'bad_path',
    )
  }
  const remote = opts.remote ? { name: opts.remote.name, url: isUrl(opts.remote.url) ? opts.remote.url : path.resolve(opts.remote.url) } : null
  let store: RemoteStore | null = null
  if (remote) {
    store = env.remoteStore ?? (isUrl(remote.url) ? null : localFolderRemote(remote.url))
    if (!store)
      throw new DvcError(
        `remote ${remote.url}: pass an object store (head/put) for this URL scheme; only local folders are built in`,
        'no_remote_store',
      )
  }

  await mkdir(repoRoot, { recursive: true })
  await ensureGitRepo(repoRoot)
  // `dvc add --out` would copy the data into the workspace, which a source is meant to avoid: native only.
  const useCli = opts.engine === 'auto' && !opts.source && (await (env.dvcAvailable ?? dvcOnPath)())
  const initialised = await pathExists(path.join(repoRoot, '.dvc'))
  if (useCli) log('using the dvc command found on PATH')
  // `dvc init` refuses a repository that has `.dvc` already, so the CLI goes before our layout.
  const cliAdded = useCli ? await cliAdd(repoRoot, rel, initialised) : null
  const layout = await ensureDvcLayout(repoRoot, remote ?? undefined)
  if (layout.keptConfig) log(`kept the existing ${layout.keptConfig}; the remote pushed to is ${remote?.url}`)
  const tracked: Tracked = cliAdded
    ? { ...cliAdded, hashed: null, reused: null, pushed: null }
    : await trackNative(repoRoot, target, rel, opts, env, log)
  if (remote && store && tracked.built) {
    tracked.pushed = await pushOutput(path.join(repoRoot, '.dvc', 'cache'), tracked.built, store, {
      concurrency: opts.concurrency,
      progress: env.progress,
      signal: env.signal,
    })
    log(`pushed to ${remote.url}`, { ...tracked.pushed })
  } else if (remote && useCli) {
    await cliPush(repoRoot, `${rel}.dvc`, remote)
  }
  if (!remote) log('no remote configured: this version exists only in the repository cache; `dvc pull` elsewhere cannot fetch it')
  const { dvcFile, dvcText, hashed, reused, pushed } = tracked

  const out = parseDvcFile(dvcText)
  const relDvc = path.relative(repoRoot, dvcFile).split(path.sep).join('/')
  const relGitignore = path.posix.join(path.posix.dirname(rel), '.gitignore')
  const result: DatasetVersion = {
    repo: repoRoot,
    path: rel,
    dvcFile: relDvc,
    dvcText,
    md5: out.md5,
    digest: out.md5.replace(/\.dir$/, ''),
    size: out.size,
    nfiles: out.nfiles ?? null,
    engine: useCli ? 'dvc' : 'native',
    hashed,
    reused,
    remote: remote ? { ...remote, ...pushed } : null,
    dataset: null,
    version: null,
    tag: null,
    commit: null,
    created: null,
  }
  if (opts.dataset) {
    const describe = `${out.md5}, ${out.nfiles ?? 1} files, ${out.size} bytes`
    const v = await commitVersion({
      repoRoot,
      dataset: opts.dataset,
      dvcFile: relDvc,
      dvcText,
      companions: [relGitignore, ...layout.files],
      message: opts.message,
      describe,
      identity: opts.identity,
    })
    log(v.created ? `created ${v.tag} at ${v.commit.slice(0, 12)}` : `${v.tag} already holds this content; no new version`, { tag: v.tag })
    Object.assign(result, { dataset: opts.dataset, version: v.version, tag: v.tag, commit: v.commit, created: v.created })
  }
  return result
}
