import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** This installation's package.json and root folder. */
export const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url))
export const PACKAGE_ROOT = dirname(PACKAGE_JSON)
/** The runtime's source folder: its files are the prebuilt runner's, never compiled into a DAG's module. */
export const RUNTIME_DIR = join(PACKAGE_ROOT, 'runtime')

type Exports = Record<string, string | { default?: string }>

let exportsMap: Exports | null = null

/**
 * The file `adas-forge` or `adas-forge/SUB` names, through package.json `exports` as Node resolves a self-reference
 * (an exact key, else the longest `*` pattern); null for any other specifier or a subpath the package does not export.
 */
export function resolveSelf(specifier: string): string | null {
  if (specifier !== 'adas-forge' && !specifier.startsWith('adas-forge/')) return null
  exportsMap ??= (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { exports: Exports }).exports
  const sub = '.' + specifier.slice('adas-forge'.length)
  const target = (key: string, star?: string): string | null => {
    const t = exportsMap![key]
    const path = typeof t === 'string' ? t : t?.default
    return path ? join(PACKAGE_ROOT, star === undefined ? path : path.replaceAll('*', star)) : null
  }
  if (exportsMap[sub]) return target(sub)
  const patterns = Object.keys(exportsMap)
    .filter((k) => k.includes('*'))
    .sort((a, b) => b.length - a.length)
  for (const key of patterns) {
    const [head, tail] = key.split('*') as [string, string]
    if (sub.startsWith(head) && sub.endsWith(tail) && sub.length >= head.length + tail.length)
      return target(key, sub.slice(head.length, sub.length - tail.length))
  }
  return null
}
