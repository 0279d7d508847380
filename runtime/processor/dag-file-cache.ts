import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { CodeDigests } from '../dag/code-digest.ts'
import { mapLimit } from './map-limit.ts'
import type { ProcessDagFileResult } from './types.ts'

export interface DagFileCacheOptions {
  /**
   * Every file is imported again once this long has passed since the last full refresh, changed or not
   * (FORGE_DAG_FULL_REFRESH_INTERVAL), for what the code digest cannot see (packages, data files, computed
   * dynamic imports). 0 imports every file on every refresh, which turns the cache off.
   */
  fullRefreshIntervalMs: number
  /** The clock, in ms; tests move it to reach the next full refresh. */
  now?: () => number
}

export interface CachedFileResult {
  result: ProcessDagFileResult
  /** True when the result came from the cache and no child was started for the file. */
  reused: boolean
}

interface Entry {
  root: string
  hash: string
  codeDigest: string | null
  result: ProcessDagFileResult
}

/**
 * What the processor last learned about each DAG file, keyed by absolute path and checked against a sha256 of the
 * file's bytes and against its code digest (the file and the local modules it imports). A scheduler refreshes its folder every FORGE_DAG_REFRESH_INTERVAL and a refresh that imports
 * anything starts a pool of children (~0.3 s of CPU each), so a file whose bytes have not changed reuses its last
 * result, DAG or import error alike, and a refresh of an unchanged folder starts no child at all. The caller combines cached and fresh results
 * exactly as it would fresh ones (duplicate dag ids, then syncDags), so the database ends up as after a full
 * re-import: a file that still fails keeps its import error, a file that is gone has its DAGs deactivated.
 *
 * A file that imports a local helper can define a different DAG, and runs different code, after the helper
 * changes with its own bytes unchanged: the code digest sees that, so the file is imported again at the next
 * refresh. Asking for the digests costs a stat per module while nothing changed (code-digest.ts's memo). What
 * the digest does not cover is why every `fullRefreshIntervalMs` a refresh ignores the cache and imports every
 * file again, with every digest computed from the files' contents.
 *
 * Results a child could not report (a timeout, a crash) are cached like import errors: they come back at the next
 * full refresh or edit, which keeps a file that hangs at import from costing a child (and up to the import timeout)
 * on every refresh. Content is hashed on every refresh rather than trusting mtime and size: reading a few KB per file
 * is cheap beside an import, and a same-size edit within the file system's mtime granularity cannot be missed.
 *
 * Holds no lock: use one cache for one refresh at a time (the scheduler never overlaps its refreshes).
 */
export class DagFileCache {
  private entries = new Map<string, Entry>()
  private readonly digests = new CodeDigests()
  private lastFullAt = -Infinity
  private readonly now: () => number

  constructor(private readonly opts: DagFileCacheOptions) {
    this.now = opts.now ?? Date.now
  }

  /**
   * One refresh of `files` (absolute paths under `root`): per file, in order, the cached result if its bytes and
   * code digest are unchanged, else `load(file, codeDigest)`, at most `concurrency` at a time. Files not in
   * `files` are forgotten.
   */
  async results(
    root: string,
    files: readonly string[],
    concurrency: number,
    load: (file: string, codeDigest?: string) => Promise<ProcessDagFileResult>,
  ): Promise<CachedFileResult[]> {
    const now = this.now()
    const full = now - this.lastFullAt >= this.opts.fullRefreshIntervalMs
    if (full) {
      this.lastFullAt = now
      this.digests.forget()
    }
    const listed = new Set(files)
    for (const abs of this.entries.keys()) if (!listed.has(abs)) this.entries.delete(abs)

    return mapLimit(files, concurrency, async (abs) => {
      // Hash before the child reads the file: an edit made while it imports then differs from the stored hash and
      // is imported again next time. Hashing afterwards could file the old result under the new content.
      const hash = await contentHash(abs)
      const hit = this.entries.get(abs)
      // New bytes under an unchanged stat stamp (a file system with coarse mtimes): read its modules afresh too.
      if (hit && hit.hash !== hash) this.digests.forget(abs)
      const codeDigest = hash === null ? null : this.digests.current(abs).digest
      if (!full && hash !== null && hit && hit.hash === hash && hit.codeDigest === codeDigest && hit.root === root)
        return { result: hit.result, reused: true }
      const result = await load(abs, codeDigest ?? undefined)
      // An unreadable file (removed or renamed since it was listed) is not cached: whatever it is next, it is new.
      if (hash === null) this.entries.delete(abs)
      else this.entries.set(abs, { root, hash, codeDigest, result })
      return { result, reused: false }
    })
  }
}

async function contentHash(abs: string): Promise<string | null> {
  try {
    return createHash('sha256')
      .update(await readFile(abs))
      .digest('hex')
  } catch {
    return null
  }
}
