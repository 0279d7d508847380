import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { TaskState } from '../../runtime/model/states.ts'

/**
 * Reads the task_instance statements out of TypeScript source, raw SQL (`update task_instance … set state = 'x'
 * … where state in (…)`) and Kysely chains (`.updateTable('task_instance').set({ state: TaskState.X })
 * .where('state', 'is', null)`) alike, and says which states each writes and which it is guarded to come from.
 * What it cannot read from the text (a state computed in TypeScript, a guard held by an earlier locking select) is
 * reported as `dynamic` or `unguarded`, for the caller to declare by hand: nothing is silently assumed allowed.
 */

type State = TaskState | null
export type Guard = { kind: 'states'; from: State[] } | { kind: 'table'; arg: string } | { kind: 'dynamic' } | { kind: 'unguarded' }

export interface StateStatement {
  file: string
  line: number
  text: string
  op: 'update' | 'insert'
  /** States written (null: none); `dynamic` when computed in TypeScript; [] when the statement writes no state. */
  targets: State[] | 'dynamic'
  /** For a target given by a variable (`${to}`), its name: a `stateGuard(to)` guard is then the table's own. */
  targetVar: string | null
  guard: Guard
}

const STATES = new Set<string>(Object.values(TaskState))
const STATE_NAMES = new Map(Object.entries(TaskState))

export function sourceFiles(root: string, folders: string[]): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (p.endsWith('.ts')) out.push(p)
    }
  }
  for (const f of folders) walk(join(root, f))
  return out.sort()
}

export function scanFiles(root: string, files: string[]): StateStatement[] {
  return files.flatMap((f) => scanSource(relative(root, f), readFileSync(f, 'utf8')))
}

export function scanSource(file: string, src: string): StateStatement[] {
  const out: StateStatement[] = []
  const lineOf = (i: number) => src.slice(0, i).split('\n').length
  for (const m of src.matchAll(/\b(update|insert\s+into)\s+task_instance\b/gi)) {
    const text = rawStatement(src, m.index!)
    out.push({ file, line: lineOf(m.index!), text, ...(m[1]!.toLowerCase() === 'update' ? rawUpdate(text) : rawInsert(text)) })
  }
  for (const m of src.matchAll(/\.(updateTable|insertInto)\('task_instance'\)/g)) {
    const end = src.indexOf('.execute', m.index!)
    const text = src.slice(m.index!, end < 0 ? undefined : end)
    out.push({ file, line: lineOf(m.index!), text, ...(m[1] === 'updateTable' ? kyselyUpdate(text) : kyselyInsert(text)) })
  }
  return out
}

/** From the statement's first word to `returning`, the closing paren of its CTE, or the end of the template. */
function rawStatement(src: string, start: number): string {
  let depth = 0
  for (let i = start; i < src.length; i++) {
    const c = src[i]!
    if (c === '$' && src[i + 1] === '{') {
      i = closing(src, i + 1, '{', '}')
      continue
    }
    if (c === '(') depth++
    else if (c === ')' && --depth < 0) return src.slice(start, i)
    else if (c === '`') return src.slice(start, i)
    else if (depth === 0 && /^returning\b/i.test(src.slice(i, i + 10)) && /\W/.test(src[i - 1]!)) return src.slice(start, i)
  }
  return src.slice(start)
}

function closing(src: string, open: number, a: string, b: string): number {
  let depth = 0
  for (let i = open; i < src.length; i++) {
    if (src[i] === a) depth++
    else if (src[i] === b && --depth === 0) return i
  }
  return src.length
}

/** Top-level (outside parentheses and `${…}`) position of a keyword, or -1. */
function topLevel(text: string, word: RegExp, from = 0): number {
  let depth = 0
  for (let i = from; i < text.length; i++) {
    const c = text[i]!
    if (c === '$' && text[i + 1] === '{') i = closing(text, i + 1, '{', '}')
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (depth === 0 && /\W/.test(text[i - 1] ?? ' ') && word.test(text.slice(i, i + 12))) return i
  }
  return -1
}

/** A state value as written in SQL or TypeScript: 'x', null, ${TaskState.X}, TaskState.X; undefined if computed. */
function literal(v: string): State | undefined {
  const s = v.trim()
  if (/^null\b/i.test(s)) return null
  const quoted = /^'(\w+)'/.exec(s)
  if (quoted && STATES.has(quoted[1]!)) return quoted[1] as TaskState
  const named = /^\$?\{?\s*TaskState\.(\w+)/.exec(s)
  if (named && STATE_NAMES.has(named[1]!)) return STATE_NAMES.get(named[1]!)!
  return undefined
}

function rawUpdate(text: string): Omit<StateStatement, 'file' | 'line' | 'text'> {
  const alias = /^update\s+task_instance\s+(?!set\b)(\w+)/i.exec(text)?.[1] ?? null
  const setAt = topLevel(text, /^set\b/i)
  const whereAt = topLevel(text, /^where\b/i, setAt)
  const fromAt = topLevel(text, /^from\b/i, setAt)
  const setEnd = [whereAt, fromAt].filter((i) => i > setAt).sort((a, b) => a - b)[0] ?? text.length
  const set = text.slice(setAt + 3, setEnd)
  const where = whereAt < 0 ? '' : text.slice(whereAt)
  const m = /(?<![\w.])state\s*=\s*(\$\{\s*(\w+)\s*\}|[^,]+)/.exec(set)
  if (!m) return { op: 'update', targets: [], targetVar: null, guard: sqlGuard(where, alias) }
  const value = literal(m[1]!)
  return { op: 'update', targets: value === undefined ? 'dynamic' : [value], targetVar: m[2] ?? null, guard: sqlGuard(where, alias) }
}

/** The states a SQL where clause lets the updated rows come from (the updated table's own column only). */
function sqlGuard(where: string, alias: string | null): Guard {
  const table = /\$\{\s*stateGuard\(\s*([^,)]+)/.exec(where)
  if (table) return { kind: 'table', arg: table[1]!.trim() }
  const col = alias ? `\\(?${alias}\\.state(?:\\s*\\|\\|\\s*''\\s*\\))?` : `(?<![\\w.])state`
  const from: State[] = []
  let dynamic = false
  for (const m of where.matchAll(new RegExp(`${col}\\s*(=|in|is)\\s*(null\\b|any\\s*\\(\\s*\\$\\{|'\\w+'|\\(([^)]*)\\))`, 'gi'))) {
    if (/^null/i.test(m[2]!)) from.push(null)
    else if (/^any/i.test(m[2]!)) dynamic = true
    else if (m[3] !== undefined) from.push(...m[3].split(',').map((x) => checked(x.trim().replace(/'/g, ''))))
    else from.push(checked(m[2]!.replace(/'/g, '')))
  }
  if (dynamic) return { kind: 'dynamic' }
  return from.length ? { kind: 'states', from } : { kind: 'unguarded' }
}

function checked(name: string): TaskState {
  if (!STATES.has(name)) throw new Error(`"${name}" is not a task-instance state`)
  return name as TaskState
}

function rawInsert(text: string): Omit<StateStatement, 'file' | 'line' | 'text'> {
  const open = text.indexOf('(')
  const columns = text
    .slice(open + 1, closing(text, open, '(', ')'))
    .split(',')
    .map((c) => c.trim())
  const at = columns.indexOf('state')
  if (at < 0) return { op: 'insert', targets: [null], targetVar: null, guard: { kind: 'unguarded' } }
  const select = /\bselect\b([\s\S]*?)\bfrom\b/i.exec(text)?.[1] ?? /\bvalues\s*\(([\s\S]*)\)/i.exec(text)?.[1] ?? ''
  const value = literal(splitTop(select)[at] ?? '')
  return { op: 'insert', targets: value === undefined ? 'dynamic' : [value], targetVar: null, guard: { kind: 'unguarded' } }
}

function splitTop(list: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const c of list) {
    if (c === '(' || c === '{') depth++
    if (c === ')' || c === '}') depth--
    if (c === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  return [...out, cur]
}

/** `state: X` in a Kysely .set() or .values(): every TaskState it may take (`a ? TaskState.A : TaskState.B`). */
function kyselyStates(text: string): State[] | 'dynamic' | null {
  const m = /(?<![\w.])state:\s*([^,}\n]+)/.exec(text)
  if (!m) return null
  if (/^null\b/.test(m[1]!.trim())) return [null]
  const named = [...m[1]!.matchAll(/TaskState\.(\w+)/g)].map((x) => STATE_NAMES.get(x[1]!))
  return named.length && named.every((s) => s !== undefined) ? (named as TaskState[]) : 'dynamic'
}

function kyselyUpdate(text: string): Omit<StateStatement, 'file' | 'line' | 'text'> {
  const targets = kyselyStates(text) ?? []
  const from: State[] = []
  let dynamic = false
  for (const m of text.matchAll(/(?:where|eb)\(\s*'(?:\w+\.)?state',\s*'(=|is|in)',\s*([^)]*?\]|[^),]+)\)/g)) {
    const value = m[2]!.trim()
    if (m[1] === 'in') {
      const list = [...value.matchAll(/TaskState\.(\w+)|'(\w+)'/g)].map((x) => (x[1] ? STATE_NAMES.get(x[1]) : checked(x[2]!)))
      if (!value.startsWith('[') || list.some((s) => s === undefined)) dynamic = true
      else from.push(...(list as TaskState[]))
    } else {
      const v = literal(value)
      if (v === undefined) dynamic = true
      else from.push(v)
    }
  }
  const guard: Guard = dynamic ? { kind: 'dynamic' } : from.length ? { kind: 'states', from } : { kind: 'unguarded' }
  return { op: 'update', targets, targetVar: null, guard }
}

function kyselyInsert(text: string): Omit<StateStatement, 'file' | 'line' | 'text'> {
  return { op: 'insert', targets: kyselyStates(text) ?? [null], targetVar: null, guard: { kind: 'unguarded' } }
}
