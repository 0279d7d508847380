/**
 * The `dvc` command itself, used instead of the native writer when it is on PATH (it writes the same `.dvc`
 * text, docs/dvc-format.md §1). Kept to the three calls a version needs: init, add, push.
 * Not exercised by the tests here: `dvc` cannot be installed on the machines they run on.
 */
import { execa } from 'execa'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { DvcError, DvcPushError } from './errors.ts'

export async function dvcOnPath(bin = 'dvc'): Promise<boolean> {
  const r = await execa(bin, ['--version'], { reject: false })
  return r.exitCode === 0
}

async function dvc(cwd: string, args: string[]): Promise<void> {
  const r = await execa('dvc', args, { cwd, reject: false })
  if (r.exitCode !== 0)
    throw new DvcError(`dvc ${args.join(' ')} failed in ${cwd} (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim()}`, 'dvc_failed', false)
}

/** Runs `dvc add` (after `dvc init` in a repository without `.dvc`); returns the `.dvc` file and its text. */
export async function cliAdd(repoRoot: string, relTarget: string, initialised: boolean): Promise<{ dvcFile: string; dvcText: string }> {
  if (!initialised) await dvc(repoRoot, ['init', '-q'])
  await dvc(repoRoot, ['add', '-q', relTarget])
  const dvcFile = path.join(repoRoot, `${relTarget}.dvc`)
  return { dvcFile, dvcText: await readFile(dvcFile, 'utf8') }
}

export async function cliPush(repoRoot: string, relDvcFile: string, remote: { name: string; url: string }): Promise<void> {
  await dvc(repoRoot, ['remote', 'add', '-f', '-d', remote.name, remote.url])
  try {
    await dvc(repoRoot, ['push', '-q', '-r', remote.name, relDvcFile])
  } catch (err) {
    throw new DvcPushError(`dvc push to ${remote.url} failed: ${(err as Error).message}`, { cause: err })
  }
}
