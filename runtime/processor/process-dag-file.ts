import { dirname, resolve } from 'node:path'
import { DagFilePool } from './dag-file-pool.ts'
import type { ProcessDagFileResult } from './types.ts'

export interface ProcessDagFileOptions {
  /** The child is killed after this long; the file becomes an import error ("did not finish importing…"). */
  timeoutMs: number
  /** The DAGs folder: `file` in results is relative to it (default: the file's own folder). */
  root?: string
}

/**
 * Loads one DAG file in a child process of its own and returns its serialized DAG or an import error. Never
 * throws and never imports the file here: whatever the file does, the caller gets a result. A folder goes
 * through processDagFolder, which shares a few children among its files.
 */
export async function processDagFile(file: string, opts: ProcessDagFileOptions): Promise<ProcessDagFileResult> {
  const pool = new DagFilePool({ size: 1, timeoutMs: opts.timeoutMs })
  try {
    return await pool.load(file, opts.root ?? dirname(resolve(file)))
  } finally {
    await pool.close()
  }
}
