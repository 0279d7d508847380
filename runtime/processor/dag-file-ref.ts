import { readFileSync } from 'node:fs'
import { dirname, relative, resolve, sep } from 'node:path'

/** A DAG file as the processor talks about it: where it is, its name for people, and its text (for line lookups). */
export interface DagFileRef {
  abs: string
  /** Relative to the DAGs folder, with `/` separators: the `file` of dags and import errors. */
  rel: string
  /** The DAGs folder; paths under it are shown relative to it in messages. */
  root: string
  /** The file's text, or null if it cannot be read (messages then go without option lines). */
  source: string | null
}

export function dagFileRef(file: string, root?: string): DagFileRef {
  const abs = resolve(file)
  const rootAbs = resolve(root ?? dirname(abs))
  return { abs, rel: relativeName(rootAbs, abs), root: rootAbs, source: readSource(abs) }
}

export function relativeName(root: string, abs: string): string {
  const rel = relative(root, abs)
  // Outside the folder (a file passed by hand): the absolute path is the only unambiguous name.
  if (rel.startsWith('..')) return abs
  return rel.split(sep).join('/')
}

function readSource(abs: string): string | null {
  try {
    return readFileSync(abs, 'utf8')
  } catch {
    return null
  }
}
