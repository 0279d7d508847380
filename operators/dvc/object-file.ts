/**
 * Writes one object file the way the cache and a folder remote both need it: into a temp name beside it, made
 * read-only (0444, as DVC protects its objects, docs/dvc-format.md §4), then renamed into place.
 */
import { constants } from 'node:fs'
import { access, chmod, copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'

export const OBJECT_MODE = 0o444

export type ObjectBody = { file: string; size: number } | { bytes: Buffer }

export async function pathExists(p: string): Promise<boolean> {
  try {
    await access(p)
    return true
  } catch {
    return false
  }
}

export async function writeObjectFile(dest: string, body: ObjectBody): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true })
  const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    // A reflink where the filesystem has them, else a copy: DVC's default link types.
    if ('file' in body) await copyFile(body.file, tmp, constants.COPYFILE_FICLONE)
    else await writeFile(tmp, body.bytes)
    await chmod(tmp, OBJECT_MODE)
    await rename(tmp, dest)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
