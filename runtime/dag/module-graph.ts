import { readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { initSync, parse } from 'es-module-lexer'

/** The adas-forge runtime's own folder: its modules are the engine that runs a DAG, not the DAG's code. */
const RUNTIME_DIR = realpathSync(fileURLToPath(new URL('../', import.meta.url)))

/** Files whose imports are read; any other local file an import names (JSON, say) is digested but not parsed. */
const PARSED = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'])
/** What a specifier without an extension, or a folder's `index`, may stand for, in tsx's order. */
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs', '.json']
/** TypeScript lets `./x.js` name `./x.ts`: the compiled name of a source file. */
const TS_FOR_JS: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.jsx': ['.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'] }

export interface ModuleGraph {
  /** The DAG file's real path. */
  entry: string
  /** Real paths of the entry and of every local module it reaches, sorted. */
  files: string[]
  /**
   * Every file and folder the walk looked at, with its stat stamp taken before it was read (or `missing`): a
   * module edited, or a file added where a specifier is resolved, changes a stamp (code-digest.ts's memo).
   */
  stamps: Map<string, string>
  /** Local specifiers that name no file (`importer: specifier`); importing the entry fails on them. */
  unresolved: string[]
}

let lexerReady = false

/**
 * The DAG file and the local modules it imports, transitively, read from their source without running them:
 * static `import`/`export … from` and `import('literal')`, resolved as tsx resolves relative and absolute
 * specifiers (exact file, `.js` naming `.ts`, added extension, folder index). Bare specifiers (packages, `node:`)
 * and anything under node_modules or the runtime's own folder are not followed. Cycles are visited once.
 * Never throws: a file that cannot be read or lexed adds no imports, and importing it reports the real error.
 */
export function localModuleGraph(entry: string): ModuleGraph {
  if (!lexerReady) {
    initSync()
    lexerReady = true
  }
  const stamps = new Map<string, string>()
  const unresolved: string[] = []
  const root = realOrSelf(resolve(entry))
  const seen = new Set<string>([root])
  const queue = [root]
  while (queue.length > 0) {
    const file = queue.pop()!
    stamps.set(file, stampOf(file))
    for (const specifier of importsOf(file)) {
      if (!isLocal(specifier)) continue
      const found = resolveLocal(specifier, dirname(file), stamps)
      if (found === null) unresolved.push(`${file}: ${specifier}`)
      else if (!seen.has(found) && !outsideCode(found)) {
        seen.add(found)
        queue.push(found)
      }
    }
  }
  return { entry: root, files: [...seen].sort(), stamps, unresolved }
}

/** inode, size, mtime and ctime (ms with sub-µs digits): any write or replacement of the file changes one of them. */
export function stampOf(path: string): string {
  try {
    const s = statSync(path, { throwIfNoEntry: false })
    return s ? `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : 'missing'
  } catch (err) {
    // ENOTDIR, EACCES…: as good as missing, and the same answer next time while nothing changes.
    return `error:${(err as NodeJS.ErrnoException).code}`
  }
}

function importsOf(file: string): string[] {
  if (!PARSED.has(extname(file))) return []
  let source: string
  try {
    source = readFileSync(file, 'utf8')
    const [imports] = parse(source, file)
    // `import type` and `export type … from` are erased by the compiler and load nothing.
    return imports.flatMap((i) => (i.n !== undefined && (i.t === 1 || i.t === 2) && !typeOnly(source, i.ss) ? [i.n] : []))
  } catch {
    return []
  }
}

function typeOnly(source: string, statementStart: number): boolean {
  return /^(?:import|export)\s+type\s+(?!from\b|=)[\w{*]/.test(source.slice(statementStart, statementStart + 64))
}

function isLocal(specifier: string): boolean {
  return /^\.{1,2}(?:\/|$)/.test(specifier) || specifier.startsWith('/') || specifier.startsWith('file:')
}

function resolveLocal(specifier: string, fromDir: string, stamps: Map<string, string>): string | null {
  const bare = specifier.startsWith('file:') ? fileURLToPath(specifier.replace(/[?#].*$/, '')) : specifier.replace(/[?#].*$/, '')
  const base = resolve(fromDir, bare)
  const ext = extname(base)
  const candidates = [
    base,
    ...(TS_FOR_JS[ext] ?? []).map((e) => base.slice(0, -ext.length) + e),
    ...EXTENSIONS.map((e) => base + e),
    ...EXTENSIONS.map((e) => join(base, `index${e}`)),
  ]
  // A file created later beside these names (or the folder itself appearing) changes what the specifier means.
  for (const dir of new Set([dirname(base), base])) if (!stamps.has(dir)) stamps.set(dir, stampOf(dir))
  for (const c of candidates) if (isFile(c)) return realOrSelf(c)
  return null
}

function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false
  } catch {
    return false
  }
}

function outsideCode(path: string): boolean {
  return path.split(sep).includes('node_modules') || path === RUNTIME_DIR || path.startsWith(RUNTIME_DIR + sep)
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}
