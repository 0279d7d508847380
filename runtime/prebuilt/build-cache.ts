import { createHash } from 'node:crypto'
import { accessSync, constants, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { PACKAGE_ROOT } from './package-self.ts'

/**
 * The folder prebuilt runners and compiled DAGs are kept in: the installation's node_modules/.cache (shared by
 * every FORGE_HOME on the machine) when it is writable, else FORGE_HOME/cache.
 */
export function buildCacheRoot(home: string): string {
  for (const dir of [join(PACKAGE_ROOT, 'node_modules', '.cache', 'adas-forge'), join(home, 'cache')]) {
    try {
      mkdirSync(dir, { recursive: true })
      accessSync(dir, constants.W_OK)
      return dir
    } catch {
      // read-only installation: try the next one
    }
  }
  throw new Error(`no writable cache folder (tried the installation's node_modules/.cache and ${join(home, 'cache')})`)
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** sha256 of a file's bytes, or 'missing'. */
export function fileHash(path: string): string {
  try {
    return sha256(readFileSync(path))
  } catch {
    return 'missing'
  }
}

/** Every file under `dir` (sorted, relative), with its content hash: what a build from that folder may read. */
export function treeDigest(dir: string): string {
  const lines: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) lines.push(`${relative(dir, p)}\0${fileHash(p)}\n`)
    }
  }
  walk(dir)
  return sha256(lines.sort().join(''))
}

/**
 * Builds into a fresh folder beside `dir` and renames it into place, so a reader sees a whole build or none, and
 * two processes building the same key at once both end with one complete folder (the loser's is discarded).
 */
export async function publishBuild(dir: string, build: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  mkdirSync(tmp, { recursive: true })
  try {
    await build(tmp)
    try {
      renameSync(tmp, dir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}
