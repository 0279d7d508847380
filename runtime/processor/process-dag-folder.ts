import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { SerializedDag } from '../dag/serialize.ts'
import { findDagFiles } from './find-dag-files.ts'
import { mapLimit } from './map-limit.ts'
import { processDagFile } from './process-dag-file.ts'
import { lineMatching } from './source-lines.ts'
import type { ImportErrorInfo } from './types.ts'

export interface ProcessDagFolderOptions {
  /** Per file; see processDagFile. */
  timeoutMs: number
  /** Files processed at once (default 2: one child per core on the reference machine). */
  concurrency?: number
}

export interface ProcessDagFolderResult {
  /** Sorted by file. */
  dags: SerializedDag[]
  /** Sorted by file; at most one per file. */
  errors: ImportErrorInfo[]
}

/**
 * Processes every `*.dag.ts` under `folder`, each in its own child, so one broken file never hides the others.
 * A dag_id already defined by an earlier file (in sorted order) makes the later file an import error, as in
 * Airflow: the first file keeps the id and the result does not depend on which child finished first.
 */
export async function processDagFolder(folder: string, opts: ProcessDagFolderOptions): Promise<ProcessDagFolderResult> {
  const root = resolve(folder)
  const files = await findDagFiles(root)
  const results = await mapLimit(files, opts.concurrency ?? 2, (file) => processDagFile(file, { timeoutMs: opts.timeoutMs, root }))
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
  return { dags, errors }
}

/** The line with `id: '<dagId>'`, for the duplicate-id error (a text search: the child has exited by now). */
async function lineOfDagId(file: string, dagId: string): Promise<number | null> {
  const source = await readFile(file, 'utf8').catch(() => null)
  if (source === null) return null
  const quoted = dagId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return lineMatching(source, new RegExp(`\\bid\\s*:\\s*['"\`]${quoted}['"\`]`))
}
