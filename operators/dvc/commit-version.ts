/**
 * A dataset version in the registry repository: one commit of the `.dvc` file and its companions, and the
 * annotated tag `<dataset>@v<N>` on it, N one more than the highest existing (docs/dvc-format.md §9). Called only
 * after the push.
 * When the latest tag already holds this exact `.dvc` text, that version is returned and nothing is created,
 * so a retried task does not mint a second version of the same data.
 */
import { git, commitIdentity, type GitIdentity } from './git.ts'
import { DvcError } from './errors.ts'

export interface CommittedVersion {
  tag: string
  version: number
  commit: string
  /** False when an existing tag already held this content. */
  created: boolean
}

export interface CommitRequest {
  repoRoot: string
  dataset: string
  /** Repository-relative, '/'-separated. */
  dvcFile: string
  dvcText: string
  /** Other repository-relative files to include when they changed. */
  companions: string[]
  message?: string
  describe: string
  identity?: GitIdentity
}

const TAG_RE = (dataset: string): RegExp => new RegExp(`^${dataset.replace(/[.]/g, '\\.')}@v([1-9][0-9]*)$`)

export async function latestVersion(repoRoot: string, dataset: string): Promise<{ tag: string; version: number } | null> {
  const tags = (await git(repoRoot, ['tag', '--list', `${dataset}@v*`])).stdout.split('\n')
  let best: { tag: string; version: number } | null = null
  for (const tag of tags) {
    const m = TAG_RE(dataset).exec(tag)
    if (m && (!best || Number(m[1]) > best.version)) best = { tag, version: Number(m[1]) }
  }
  return best
}

export async function commitVersion(req: CommitRequest): Promise<CommittedVersion> {
  const { repoRoot, dataset } = req
  const latest = await latestVersion(repoRoot, dataset)
  if (latest) {
    const shown = await git(repoRoot, ['show', `${latest.tag}:${req.dvcFile}`], { allowFail: true })
    if (shown.ok && shown.stdout + '\n' === req.dvcText) {
      const commit = (await git(repoRoot, ['rev-list', '-n', '1', latest.tag])).stdout
      return { ...latest, commit, created: false }
    }
  }
  const identity = await commitIdentity(repoRoot, req.identity)
  const paths = [req.dvcFile, ...req.companions]
  await git(repoRoot, ['add', '--', ...paths])
  const staged = await git(repoRoot, ['diff', '--cached', '--quiet', '--', ...paths], { allowFail: true })
  const version = (latest?.version ?? 0) + 1
  const tag = `${dataset}@v${version}`
  if (!staged.ok) {
    await git(repoRoot, ['commit', '-q', '-m', req.message ?? `${tag}: ${req.describe}`, '--', ...paths], { identity })
  }
  const commit = (await git(repoRoot, ['rev-parse', 'HEAD'])).stdout
  const tagged = await git(repoRoot, ['tag', '-a', tag, '-m', `${tag}: ${req.describe}`, commit], { identity, allowFail: true })
  if (!tagged.ok) {
    throw new DvcError(
      `could not create tag ${tag} in ${repoRoot} (another build may have taken it; retry): commit ${commit} is in place`,
      'tag_failed',
      false,
    )
  }
  return { tag, version, commit, created: true }
}
