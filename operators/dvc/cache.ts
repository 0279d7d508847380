/**
 * The repository's object cache (`.dvc/cache`, docs/dvc-format.md §4): each file stored once under its md5,
 * the manifest under the `.dir` id, read-only and written by rename, so a crash never leaves a half-written
 * object under a valid name.
 */
import path from 'node:path'
import type { BuiltOutput } from './build-tree.ts'
import { pathExists, writeObjectFile } from './object-file.ts'
import { objectKey } from './object-path.ts'

export function cacheObjectPath(cacheDir: string, oid: string): string {
  return path.join(cacheDir, ...objectKey(oid).split('/'))
}

/** Copies the output's files and its manifest into the cache; returns how many objects were new. */
export async function writeToCache(cacheDir: string, built: BuiltOutput): Promise<{ added: number }> {
  let added = 0
  const seen = new Set<string>()
  for (const f of built.files) {
    if (seen.has(f.md5)) continue
    seen.add(f.md5)
    const dest = cacheObjectPath(cacheDir, f.md5)
    if (await pathExists(dest)) continue
    await writeObjectFile(dest, { file: f.abs, size: f.size })
    added++
  }
  if (built.manifest) {
    const dest = cacheObjectPath(cacheDir, built.oid)
    if (!(await pathExists(dest))) {
      await writeObjectFile(dest, { bytes: built.manifest })
      added++
    }
  }
  return { added }
}
