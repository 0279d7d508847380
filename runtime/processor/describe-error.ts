import { ForgeError, coerceError } from '../errors.ts'
import type { DagFileRef } from './dag-file-ref.ts'
import { lineOfCall, lineOfOption, optionNamedIn } from './source-lines.ts'
import type { ImportErrorInfo } from './types.ts'

/**
 * Turns whatever importing or serializing a DAG file threw into an import error a person can act on, with the
 * line in the DAG file where we can know it. Runs in the child, where the error object (stack, details) exists.
 *
 * Where the line comes from, best first:
 *  1. esbuild's transform error (a syntax error): its `file:line:col` location;
 *  2. a `(file:line)` site inside the message (DagDefinitionError names the dag.task call that is at fault);
 *  3. `details.line` on a DagDefinitionError;
 *  4. the first stack frame in the DAG file (an error thrown while the file's top level runs);
 *  5. for option errors found while serializing: the line that sets that option, else the defineDag( call.
 */
export function describeError(thrown: unknown, file: DagFileRef, phase: 'import' | 'serialize'): ImportErrorInfo {
  const err = coerceError(thrown)
  const syntax = syntaxErrorOf(err)
  if (syntax) {
    const inFile = syntax.file === file.abs
    const where = `${syntax.file}:${syntax.line}:${syntax.column}`
    return { file: file.rel, line: inFile ? syntax.line : null, message: relativize(`syntax error at ${where}: ${syntax.text}`, file) }
  }

  // Our own errors are written for people; anything else keeps its class name (TypeError, SyntaxError…).
  let message = err instanceof ForgeError ? err.message : `${err.name}: ${err.message}`
  let line = lineOfSite(err.message, file.abs) ?? detailsLine(err) ?? firstFrameIn(err.stack, file.abs)
  if (phase === 'serialize' && file.source) {
    const option = optionNamedIn(err.message)
    line = (option ? lineOfOption(file.source, option, line) : null) ?? line ?? lineOfCall(file.source, 'defineDag')
  }
  if (line === null) {
    // Thrown in a module the DAG file imports: no line here, but say where so the person can look.
    const elsewhere = firstUserFrame(err.stack, file.abs)
    if (elsewhere) message += ` (at ${elsewhere})`
  }
  return { file: file.rel, line, message: relativize(message + commonJsHint(err), file) }
}

/**
 * A DAG file without `"type": "module"` above it loads as CommonJS (tsx follows Node's rules), and then an ES-module-only
 * package it imports, directly or through an operator, fails with a message about the package alone.
 */
function commonJsHint(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code
  const required = (err.stack ?? '').includes('node:internal/modules/cjs/loader')
  if (!required || (code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED' && code !== 'ERR_REQUIRE_ESM')) return ''
  return '; the DAG file loads as CommonJS (no package.json with "type": "module" above it), which cannot load ES-module-only packages: add { "type": "module" } to the DAGs folder\'s package.json (`forge init` does)'
}

interface SyntaxLocation {
  file: string
  line: number
  column: number
  text: string
}

/** esbuild's TransformError: tsx rethrows it with the locations only in the message ("/a/b.ts:5:2: ERROR: …"). */
function syntaxErrorOf(err: Error): SyntaxLocation | null {
  const first = (err as { errors?: Array<{ text?: string; location?: { file: string; line: number; column: number } }> }).errors?.[0]
  if (first?.location) return { file: first.location.file, line: first.location.line, column: first.location.column, text: first.text ?? err.message }
  if (!/Transform failed/.test(err.message)) return null
  const m = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m.exec(err.message)
  if (!m) return null
  return { file: m[1]!, line: Number(m[2]), column: Number(m[3]), text: m[4]! }
}

function lineOfSite(message: string, abs: string): number | null {
  const m = new RegExp(`${escapeRegExp(abs)}:(\\d+)`).exec(message)
  return m ? Number(m[1]) : null
}

function detailsLine(err: Error): number | null {
  const line = (err as { details?: { line?: unknown } }).details?.line
  return typeof line === 'number' ? line : null
}

function firstFrameIn(stack: string | undefined, abs: string): number | null {
  // Matches V8 frames ("at f (/a/b.ts:4:7)") and the "file:line" header of a module linking error.
  const m = new RegExp(`(?:file://)?${escapeRegExp(abs)}:(\\d+)`).exec(stack ?? '')
  return m ? Number(m[1]) : null
}

function firstUserFrame(stack: string | undefined, abs: string): string | null {
  // A path starts a frame's location (after "at " or "("), so node:internal/… frames never match.
  for (const m of (stack ?? '').matchAll(/(?<=[\s(]|file:\/\/)(\/[^\s():]+):(\d+)(?::\d+)?/g)) {
    const path = m[1]!
    if (path === abs || path.includes('/node_modules/') || path.includes('/runtime/')) continue
    return `${path}:${m[2]}`
  }
  return null
}

/** Absolute paths under the DAGs folder become the names people see in `forge dags list`. */
function relativize(message: string, file: DagFileRef): string {
  return message.split(`file://${file.root}/`).join('').split(`${file.root}/`).join('')
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
