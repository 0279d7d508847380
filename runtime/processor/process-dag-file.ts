import { fileURLToPath } from 'node:url'
import { formatMs } from '../duration.ts'
import { dagFileRef } from './dag-file-ref.ts'
import { runChild, type ChildOutcome } from './run-child.ts'
import type { ImportErrorInfo, ProcessDagFileResult } from './types.ts'

const LOAD_DAG_FILE = fileURLToPath(new URL('./load-dag-file.ts', import.meta.url))

export interface ProcessDagFileOptions {
  /** The child is killed after this long; the file becomes an import error ("did not finish importing…"). */
  timeoutMs: number
  /** The DAGs folder: `file` in results is relative to it (default: the file's own folder). */
  root?: string
}

/**
 * Loads one DAG file in its own child process and returns its serialized DAG or an import error. Never throws
 * and never imports the file here: whatever the file does, the caller gets a result.
 */
export async function processDagFile(file: string, opts: ProcessDagFileOptions): Promise<ProcessDagFileResult> {
  const ref = dagFileRef(file, opts.root)
  const outcome = await runChild(LOAD_DAG_FILE, [ref.abs, ref.root], opts.timeoutMs)
  if (outcome.kind === 'reported') {
    const m = outcome.message
    if (m.kind === 'dag') return { ok: true, dag: m.dag }
    if (m.kind === 'error') return { ok: false, error: m.error }
    return { ok: false, error: { file: ref.rel, line: null, message: `unexpected ${m.kind} result from the DAG processor` } }
  }
  return { ok: false, error: childFailure(ref.rel, outcome, opts.timeoutMs) }
}

/** Turns a child that never reported into an import error; shared with validateConf. */
export function childFailure(file: string, outcome: Exclude<ChildOutcome, { kind: 'reported' }>, timeoutMs: number): ImportErrorInfo {
  if (outcome.kind === 'timeout') {
    return {
      file,
      line: null,
      message: `did not finish importing within ${formatMs(timeoutMs)} (killed); a DAG file must not wait, loop or do I/O at import`,
    }
  }
  // Node exits with 13 when the event loop empties while a top-level await is still pending.
  if (outcome.code === 13) {
    return { file, line: null, message: 'a top-level await never settled (nothing was left to wait for); a DAG file must not wait at import' }
  }
  const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`
  const tail = outcome.stderr.trim().split('\n').slice(-5).join('\n')
  return { file, line: null, message: `importing the file ${how} before reporting a result${tail ? `:\n${tail}` : ''}` }
}
