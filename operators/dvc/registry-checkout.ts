/**
 * Reading a dataset version from the registry repository without checking anything out: the repository is used
 * in place when it is a local folder, or cloned (no checkout) into a temp folder when it is a URL, and files are
 * read at the tag with `git show TAG:PATH`, as `dvc pull` after `git checkout TAG` would see them.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { DvcError } from './errors.ts'
import { git } from './git.ts'

export interface RegistryCheckout {
  /** The git working folder (a temp clone for a URL). */
  root: string
  cloned: boolean
  cleanup(): Promise<void>
}

/** `https://…`, `ssh://…`, `file://…` or scp-like `user@host:path`. */
export const isGitUrl = (repo: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//.test(repo) || /^[\w.-]+@[\w.-]+:/.test(repo)

export async function openRegistry(repo: string, signal?: AbortSignal): Promise<RegistryCheckout> {
  if (!isGitUrl(repo)) {
    const root = path.resolve(repo)
    const st = await stat(root).catch(() => null)
    if (!st?.isDirectory()) throw new DvcError(`registry repository ${JSON.stringify(repo)} is not a folder`, 'missing_repo')
    return { root, cloned: false, cleanup: async () => {} }
  }
  const root = await mkdtemp(path.join(tmpdir(), 'forge-registry-'))
  const cleanup = (): Promise<void> => rm(root, { recursive: true, force: true })
  // '--' keeps a URL from being read as an option; the clone holds the tags, which is all a pull reads.
  const r = await execa('git', ['clone', '--quiet', '--no-checkout', '--', repo, root], { reject: false, cancelSignal: signal })
  if (r.exitCode !== 0) {
    await cleanup()
    throw new DvcError(`git clone ${repo} failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`, 'clone_failed', false)
  }
  return { root, cloned: true, cleanup }
}

/** The commit a tag points at; a missing tag is an error listing the versions the dataset does have. */
export async function resolveTag(root: string, tag: string): Promise<string> {
  const found = await git(root, ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`], { allowFail: true })
  if (found.ok && found.stdout) return found.stdout
  const dataset = tag.split('@')[0]!
  const known = (await git(root, ['tag', '--list', `${dataset}@v*`])).stdout.split('\n').filter(Boolean)
  const listed = known.length ? `the versions there are ${known.join(', ')}` : `it has no ${dataset}@v* tags`
  throw new DvcError(`dataset version ${tag} not found in the registry repository ${root}: ${listed}`, 'missing_tag')
}

/** A file's text at the tag, or null when the tag does not hold it. */
export async function showAtTag(root: string, tag: string, file: string): Promise<string | null> {
  const r = await git(root, ['show', `refs/tags/${tag}:${file}`], { allowFail: true })
  return r.ok ? r.stdout + '\n' : null
}

/** The default remote's URL from `.dvc/config` text (docs/dvc-format.md §6), or null. */
export function defaultRemoteUrl(configText: string): string | null {
  const name = /^\[core\][^[]*?^\s+remote\s*=\s*(\S+)\s*$/m.exec(configText)?.[1]
  if (!name) return null
  const section = new RegExp(`^\\['remote "${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"'\\]\\s*$([^[]*)`, 'm').exec(configText)?.[1]
  return section ? (/^\s+url\s*=\s*(.+?)\s*$/m.exec(section)?.[1] ?? null) : null
}
