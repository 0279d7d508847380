import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from '../errors.ts'

const DAG_FILE = /\.dag\.ts$/

/**
 * Every `*.dag.ts` under `folder`, recursively, as sorted absolute paths. Skips node_modules and dotfiles or
 * dot-folders (editor backups, `.git`), which are never DAGs and can be huge.
 */
export async function findDagFiles(folder: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true })
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile() && DAG_FILE.test(entry.name)) found.push(path)
    }
  }
  try {
    await walk(folder)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if ((code === 'ENOENT' || code === 'ENOTDIR') && (err as NodeJS.ErrnoException).path === folder)
      throw new ConfigError(`the DAGs folder ${folder} does not exist or is not a folder (set FORGE_DAGS_FOLDER, or run in a project with dags/)`)
    throw err
  }
  // Plain code-unit order, not localeCompare: the same on every machine, so `forge dags list` is reproducible.
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
