/**
 * The git calls a dataset version needs, through execa: a failing call becomes a DvcError carrying git's own
 * message, and commits get an identity even on a machine where none is configured.
 */
import { execa } from 'execa'
import { DvcError } from './errors.ts'

export interface GitIdentity {
  name: string
  email: string
}

export const DEFAULT_IDENTITY: GitIdentity = { name: 'adas-forge', email: 'adas-forge@localhost' }

export async function git(
  cwd: string,
  args: string[],
  opts: { identity?: GitIdentity; allowFail?: boolean } = {},
): Promise<{ stdout: string; ok: boolean }> {
  const id = opts.identity ? ['-c', `user.name=${opts.identity.name}`, '-c', `user.email=${opts.identity.email}`] : []
  const r = await execa('git', [...id, ...args], { cwd, reject: false, stripFinalNewline: true })
  if (r.exitCode !== 0 && !opts.allowFail) {
    throw new DvcError(`git ${args.join(' ')} failed in ${cwd} (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim()}`, 'git_failed', false)
  }
  return { stdout: r.stdout, ok: r.exitCode === 0 }
}

/** The identity to commit with: the caller's, else the repository's configured one, else adas-forge's. */
export async function commitIdentity(cwd: string, given?: GitIdentity): Promise<GitIdentity | undefined> {
  if (given) return given
  const email = await git(cwd, ['config', 'user.email'], { allowFail: true })
  return email.ok && email.stdout ? undefined : DEFAULT_IDENTITY
}

/** Makes `dir` a git repository of its own unless it already is the top of one. */
export async function ensureGitRepo(dir: string): Promise<boolean> {
  const prefix = await git(dir, ['rev-parse', '--show-prefix'], { allowFail: true })
  if (prefix.ok && prefix.stdout === '') return false
  await git(dir, ['init', '-q'])
  return true
}
