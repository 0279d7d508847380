/** The files of a local folder, as the relative keys they upload to. */
import { lstat, readdir } from 'node:fs/promises'
import path from 'node:path'
import { MANIFEST_NAME, relativeKeyFor } from './location.ts'
import { S3OptionsError } from './errors.ts'

export interface LocalFile {
  rel: string
  path: string
  size: number
}

/**
 * Regular files under `folder`, sorted by key. Symbolic links are skipped (and reported), since following one could
 * upload something outside the folder; a top-level manifest.json is refused, since it would be overwritten.
 */
export async function listLocalFiles(folder: string, onSkip?: (file: string, why: string) => void): Promise<LocalFile[]> {
  const root = path.resolve(folder)
  const st = await lstat(root).catch(() => null)
  if (!st?.isDirectory()) throw new S3OptionsError(`local folder ${root} does not exist or is not a folder`)
  const out: LocalFile[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) await walk(full)
      else if (entry.isFile()) out.push({ rel: relativeKeyFor(root, full), path: full, size: (await lstat(full)).size })
      else onSkip?.(full, entry.isSymbolicLink() ? 'symbolic link' : 'not a regular file')
    }
  }
  await walk(root)
  if (out.some((f) => f.rel === MANIFEST_NAME)) {
    throw new S3OptionsError(
      `${path.join(root, MANIFEST_NAME)}: a top-level ${MANIFEST_NAME} would clash with the prefix's manifest; move it into a subfolder`,
    )
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
}
