/**
 * The `.gitignore` entry DVC adds for a tracked path (docs/dvc-format.md §8): `/<name>` in the `.gitignore` of
 * the path's parent folder, glob characters escaped, a newline first when the file does not end in one, and
 * nothing added when the entry is already there.
 */
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** pathspec's GitWildMatchPattern.escape: a backslash before each of `[ ] ! * # ?`. */
export function escapeGitPattern(s: string): string {
  return s.replace(/[[\]!*#?]/g, (c) => '\\' + c)
}

export function gitignoreEntry(name: string): string {
  return escapeGitPattern('/' + name)
}

/** Appends the entry for `target` to `<dirname(target)>/.gitignore`; returns that file, or null if unchanged. */
export async function addGitignoreEntry(target: string): Promise<string | null> {
  const file = path.join(path.dirname(target), '.gitignore')
  const entry = gitignoreEntry(path.basename(target))
  let text = ''
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (text.split('\n').includes(entry)) return null
  const prefix = text === '' || text.endsWith('\n') ? '' : '\n'
  await writeFile(file, text + prefix + entry + '\n')
  return file
}
