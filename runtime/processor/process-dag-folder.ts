import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { SerializedDag } from '../dag/serialize.ts'
import { relativeName } from './dag-file-ref.ts'
import type { DagFileCache } from './dag-file-cache.ts'
import { DagFilePool } from './dag-file-pool.ts'
import { findDagFiles } from './find-dag-files.ts'
import { mapLimit } from './map-limit.ts'
import { lineMatching } from './source-lines.ts'
import type { ImportErrorInfo } from './types.ts'

export interface ProcessDagFolderOptions {
  /** Per file; see processDagFile. */
  timeoutMs: number
  /** Child processes importing files at once (default 2: one per core on the reference machine). */
  concurrency?: number
  /**
   * Reuses the last result of each file whose bytes and code digest are unchanged (the scheduler keeps one
   * across refreshes).
   * Without it every file is imported.
   */
  cache?: DagFileCache
}

export interface ProcessDagFolderResult {
  /** Sorted by file. */
  dags: SerializedDag[]
  /** Sorted by file; at most one per file. */
  errors: ImportErrorInfo[]
  /** Files imported in a child this time, relative to the folder, in file order. */
  processed: string[]
  /** Files whose cached result was used instead (none without a cache), relative to the folder, in file order. */
  reused: string[]
}

/**
 * Processes every `*.dag.ts` under `folder` in a pool of children started for this call (dag-file-pool.ts), so one
 * broken file never hides the others and an edited file or helper is imported afresh on the next call.
 * A dag_id already defined by an earlier file (in sorted order) makes the later file an import error, as in
 * Airflow: the first file keeps the id and the result does not depend on which child finished first.
 */
export async function processDagFolder(folder: string, opts: ProcessDagFolderOptions): Promise<ProcessDagFolderResult> {
  const root = resolve(folder)
  const files = await findDagFiles(root)
  const concurrency = opts.concurrency ?? 2
  // Started lazily: a refresh whose files all come from the cache starts no child.
  const pool = new DagFilePool({ size: concurrency, timeoutMs: opts.timeoutMs })
  const load = (file: string, codeDigest?: string) => pool.load(file, root, codeDigest)
  let loaded
  try {
    loaded = opts.cache
      ? await opts.cache.results(root, files, concurrency, load)
      : (await mapLimit(files, concurrency, (file) => load(file))).map((result) => ({ result, reused: false }))
  } finally {
    await pool.close()
  }
  const processed = files.filter((_, i) => !loaded[i]!.reused).map((f) => relativeName(root, f))
  const reused = files.filter((_, i) => loaded[i]!.reused).map((f) => relativeName(root, f))
  // Duplicate dag ids are decided here, over cached and fresh results together: when the file that owns an id goes
  // away, the next file defining it takes the id over without being imported again.
  const results = loaded.map((l) => l.result)
  const dags: SerializedDag[] = []
  const errors: ImportErrorInfo[] = []
  const owner = new Map<string, string>()
  for (const [i, result] of results.entries()) {
    if (!result.ok) {
      errors.push(result.error)
      continue
    }
    const first = owner.get(result.dag.dag_id)
    if (first === undefined) {
      owner.set(result.dag.dag_id, result.dag.fileloc)
      dags.push(result.dag)
      continue
    }
    errors.push({
      file: result.dag.fileloc,
      line: await lineOfDagId(files[i]!, result.dag.dag_id),
      message: `dag id "${result.dag.dag_id}" is already defined in ${first}; dag ids must be unique across files`,
    })
  }
  return { dags, errors, processed, reused }
}

/** The line with `id: '<dagId>'`, for the duplicate-id error (a text search: the child has exited by now). */
async function lineOfDagId(file: string, dagId: string): Promise<number | null> {
  const source = await readFile(file, 'utf8').catch(() => null)
  if (source === null) return null
  const quoted = dagId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return lineMatching(source, new RegExp(`\\bid\\s*:\\s*['"\`]${quoted}['"\`]`))
}
