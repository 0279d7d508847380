import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, relative, resolve, sep } from 'node:path'
import { localModuleGraph, stampOf, type ModuleGraph } from './module-graph.ts'

/**
 * The identity of a DAG file's code (runtime/README.md, "Code identity"): a sha256 over the DAG file and every
 * local module it imports (module-graph.ts), each named relative to the DAG file's folder and hashed by content,
 * so the same checkout gives the same digest on every host and in every pod.
 */
export interface CodeDigest {
  /** 64 hex characters. */
  digest: string
  /** The files it covers and what was looked at to find them. */
  graph: ModuleGraph
}

export function computeCodeDigest(file: string): CodeDigest {
  const graph = localModuleGraph(file)
  const base = dirname(graph.entry)
  const lines = graph.files.map((f) => `${relative(base, f).split(sep).join('/')}\0${contentHash(f)}\n`).sort()
  return { digest: createHash('sha256').update(lines.join('')).digest('hex'), graph }
}

/** The first 12 characters, for log lines and messages. */
export function shortDigest(digest: string | null | undefined): string {
  return digest ? digest.slice(0, 12) : 'none'
}

/**
 * Digests remembered per DAG file and reused while nothing the walk looked at has a new stat stamp (size, mtime,
 * ctime and inode), so asking again costs a stat per file instead of reading and parsing each one: the
 * processor asks at every refresh, the thread pool before every attempt.
 */
export class CodeDigests {
  private memo = new Map<string, CodeDigest>()

  current(file: string): CodeDigest {
    const abs = resolve(file)
    const hit = this.memo.get(abs)
    if (hit && hit.graph.unresolved.length === 0 && stampsUnchanged(hit.graph.stamps)) return hit
    const fresh = computeCodeDigest(abs)
    this.memo.set(abs, fresh)
    return fresh
  }

  /** Drops what is remembered of `file` (all files without an argument): the next ask reads everything again. */
  forget(file?: string): void {
    if (file === undefined) this.memo.clear()
    else this.memo.delete(resolve(file))
  }
}

function stampsUnchanged(stamps: Map<string, string>): boolean {
  for (const [path, stamp] of stamps) if (stampOf(path) !== stamp) return false
  return true
}

function contentHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex')
  } catch {
    // Gone between the walk and now: the name still counts, and the next stamp check sees the change.
    return 'missing'
  }
}
