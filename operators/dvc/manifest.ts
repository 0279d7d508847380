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

/**
 * Compares by Unicode code point, as Python's str ordering does (JS's default compares UTF-16 units). UTF-16 order
 * differs only where a surrogate meets a unit from U+E000 to U+FFFF, so only that case is remapped.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (code points from U+10000) sort after U+E000-U+FFFF: move them above, and those below.
      x = x < 0xe000 ? x + 0x2000 : x - 0x800
      y = y < 0xe000 ? y + 0x2000 : y - 0x800
    }
    return x < y ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' }

/** Printable ASCII without a quote or a backslash: written as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/** A JSON string literal as Python's json.dumps(ensure_ascii=True) writes it (§3 step 4). */
export function pythonJsonString(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`
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
