/**
 * The files `dvc init` leaves in a repository (docs/dvc-format.md §8) and the `.dvc/config` naming the default
 * remote (§6), written only where missing so a repository DVC itself set up is left as it is.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

export const DVC_GITIGNORE = '/config.local\n/tmp\n/cache\n'
export const DVCIGNORE =
  '# Add patterns of files dvc should ignore, which could improve\n# the performance. Learn more at\n# https://dvc.org/doc/user-guide/dvcignore\n'

/** `.dvc/config` as configobj writes it: `[core]`, then the remote section quoted, members indented 4 spaces. */
export function dvcConfigText(remote: { name: string; url: string }): string {
  return `[core]\n    remote = ${remote.name}\n['remote "${remote.name}"']\n    url = ${remote.url}\n`
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

async function writeIfMissing(file: string, text: string): Promise<void> {
  if ((await readOrNull(file)) === null) await writeFile(file, text)
}

export interface LayoutResult {
  /** Repository-relative files that may have changed (to commit with the version). */
  files: string[]
  /** Set when an existing, different `.dvc/config` was kept. */
  keptConfig?: string
}

export async function ensureDvcLayout(repoRoot: string, remote?: { name: string; url: string }): Promise<LayoutResult> {
  await mkdir(path.join(repoRoot, '.dvc'), { recursive: true })
  await writeIfMissing(path.join(repoRoot, '.dvc', '.gitignore'), DVC_GITIGNORE)
  await writeIfMissing(path.join(repoRoot, '.dvcignore'), DVCIGNORE)
  const configFile = path.join(repoRoot, '.dvc', 'config')
  const current = await readOrNull(configFile)
  const result: LayoutResult = { files: ['.dvc/.gitignore', '.dvc/config', '.dvcignore'] }
  if (!remote) {
    if (current === null) await writeFile(configFile, '')
  } else {
    const wanted = dvcConfigText(remote)
    if (current === null || current === '') await writeFile(configFile, wanted)
    else if (current !== wanted) result.keptConfig = configFile
  }
  return result
}
