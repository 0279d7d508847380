import { formatMs } from '../duration.ts'
import type { ChildOutcome } from './run-child.ts'
import type { ImportErrorInfo } from './types.ts'

/** Turns a child that never reported on a file into that file's import error (the pool and validateConf). */
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
