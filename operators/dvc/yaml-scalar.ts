/**
 * How DVC's YAML writer (ruamel, round-trip mode) writes a string value in a `.dvc` file (docs/dvc-format.md §1):
 * plain when it would read back as that string, single-quoted when a plain scalar would read as another type or
 * begins with an indicator, double-quoted when it holds a quote or a control character.
 */

// YAML 1.2 core-schema values that are not strings (plus the timestamps ruamel also resolves).
const NON_STRING = [
  /^(?:true|True|TRUE|false|False|FALSE)$/,
  /^(?:~|null|Null|NULL)$/,
  /^[-+]?(?:0b[01_]+|0o?[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)$/,
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?$/,
  /^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/,
]

const LEADING_INDICATORS = '#,[]{}&*!|>\'"%@`'

/** True when the text has a character YAML cannot hold unescaped (controls other than tab, DEL, C1, BOM…). */
function hasSpecial(s: string): boolean {
  return /[\x00-\x08\x0a-\x1f\x7f-\x9f\ufeff\ufffe\uffff\u2028\u2029]/.test(s)
}

function plainAllowed(s: string): boolean {
  if (s === '' || s.trim() !== s || s.startsWith('---') || s.startsWith('...')) return false
  const first = s[0]!
  if (LEADING_INDICATORS.includes(first)) return false
  if ('-?:'.includes(first) && (s.length === 1 || s[1] === ' ' || s[1] === '\t')) return false
  if (s.includes(': ') || s.includes(' #') || s.includes(':\t') || s.includes('\t#') || s.endsWith(':')) return false
  if (s.includes('\t')) return false
  if (NON_STRING.some((re) => re.test(s))) return false
  return true
}

const NAMED_ESCAPES: Record<string, string> = {
  '\0': '0',
  '\x07': 'a',
  '\b': 'b',
  '\t': 't',
  '\n': 'n',
  '\x0b': 'v',
  '\f': 'f',
  '\r': 'r',
  '\x1b': 'e',
  '"': '"',
  '\\': '\\',
  '\x85': 'N',
  '\u2028': 'L',
  '\u2029': 'P',
}

/** A double-quoted scalar with the emitter's escapes (printable non-ASCII kept, as with allow_unicode). */
function doubleQuoted(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    const printable = (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000
    if (printable && !'"\\\u2028\u2029\ufeff'.includes(ch)) out += ch
    else if (NAMED_ESCAPES[ch]) out += '\\' + NAMED_ESCAPES[ch]
    else if (c <= 0xff) out += '\\x' + c.toString(16).toUpperCase().padStart(2, '0')
    else out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0')
  }
  return out + '"'
}

export function yamlScalar(s: string): string {
  if (hasSpecial(s) || s.includes("'")) {
    if (!hasSpecial(s) && plainAllowed(s)) return s
    return doubleQuoted(s)
  }
  if (plainAllowed(s)) return s
  return `'${s}'`
}
