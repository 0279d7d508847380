/**
 * The `.dir` manifest: the JSON list DVC hashes to name a directory (docs/dvc-format.md §3). JSON.stringify
 * cannot be used: DVC's bytes come from Python's json.dumps, with ", " / ": " separators and every non-ASCII
 * character escaped, and the list is sorted by code point, not by UTF-16 unit.
 */
import { createHash } from 'node:crypto'

export interface TreeEntry {
  /** Path relative to the tracked directory, '/'-separated, not Unicode-normalised. */
  relpath: string
  md5: string
}

/** Compares by Unicode code point, as Python's str ordering does (JS's default compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next()
    const y = ib.next()
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1
    const cx = x.value.codePointAt(0)!
    const cy = y.value.codePointAt(0)!
    if (cx !== cy) return cx < cy ? -1 : 1
  }
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' }

/** A JSON string literal as Python's json.dumps(ensure_ascii=True) writes it (§3 step 4). */
export function pythonJsonString(s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!
    const code = s.charCodeAt(i)
    const short = SHORT_ESCAPES[ch]
    if (short) out += short
    // UTF-16 units one by one: astral characters come out as their surrogate pair, as in Python.
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).padStart(4, '0')
    else out += ch
  }
  return out + '"'
}

/** The manifest bytes: entries sorted by relpath, keys in sorted order (md5 < relpath), no trailing newline. */
export function manifestBytes(entries: readonly TreeEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => compareCodePoints(a.relpath, b.relpath))
  const items = sorted.map((e) => `{"md5": ${pythonJsonString(e.md5)}, "relpath": ${pythonJsonString(e.relpath)}}`)
  return Buffer.from(`[${items.join(', ')}]`, 'utf8')
}

/** A directory's id: the md5 of its manifest plus the '.dir' suffix (§3 step 5). */
export function dirOid(manifest: Buffer): string {
  return createHash('md5').update(manifest).digest('hex') + '.dir'
}
