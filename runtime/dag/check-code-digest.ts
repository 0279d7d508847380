import { CodeDigests, shortDigest } from './code-digest.ts'

export interface CodeCheck {
  /** The digest of the code the attempt is about to load: what it runs, and what its attempt row records. */
  ran: string
  /** The run's digest (null for a run recorded without one). */
  expected: string | null
  /** The code on disk differs from the code the run started with. */
  changed: boolean
  /** For the attempt's log when `changed`: which code the run started with and which one runs now. */
  message: string | null
}

const shared = new CodeDigests()

/**
 * What the task runner calls before it loads a task's DAG file: the digest of the DAG file and its local modules
 * as they are on disk now, against the digest its run recorded. A difference never stops the attempt (an edit
 * takes effect on the next attempt under every isolation); it is logged, and the attempt records what it ran.
 */
export function checkCodeDigest(file: string, expected: string | null, digests: CodeDigests = shared): CodeCheck {
  return compareCodeDigest(digests.current(file).digest, expected)
}

/** checkCodeDigest for code already loaded: a worker thread runs the digest it loaded the module under. */
export function compareCodeDigest(ran: string, expected: string | null): CodeCheck {
  const changed = expected !== null && expected !== ran
  const message = changed
    ? `code changed since the run started (${shortDigest(expected)} -> ${shortDigest(ran)}): this attempt runs the current code`
    : null
  return { ran, expected, changed, message }
}
