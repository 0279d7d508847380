/**
 * The layering rule on imports: nothing under runtime/ imports operators/, and operators import the runtime only
 * through its public entries (runtime/index.ts, runtime/operator.ts, runtime/testing.ts, or `adas-forge[/operator|/testing]`).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PUBLIC = new Set(['runtime/index.ts', 'runtime/operator.ts', 'runtime/testing.ts'])
const PUBLIC_PACKAGE = new Set(['adas-forge', 'adas-forge/operator', 'adas-forge/testing'])

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mts|mjs|js|cjs)$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
}

/** Static imports and re-exports at the start of a line, and literal dynamic imports outside comments. */
function importsOf(text: string): Array<{ line: number; spec: string }> {
  const found: Array<{ line: number; spec: string }> = []
  text.split('\n').forEach((line, i) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(line)) return
    const all = [
      ...line.matchAll(/^\s*(?:import|export)\b.*?\bfrom\s*['"]([^'"]+)['"]/g),
      ...line.matchAll(/^\s*import\s*['"]([^'"]+)['"]/g),
      ...line.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ]
    for (const m of all) found.push({ line: i + 1, spec: m[1]! })
  })
  // A multi-line `import {\n a,\n b,\n} from '…'` ends on a line of its own.
  text.split('\n').forEach((line, i) => {
    const m = /^\s*\}\s*from\s*['"]([^'"]+)['"]/.exec(line)
    if (m) found.push({ line: i + 1, spec: m[1]! })
  })
  return found
}

/** `what` the import reaches: a repository path for relative specifiers, the specifier itself otherwise. */
function target(file: string, spec: string): string {
  return spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec)) : spec
}

function violations(folder: string, bad: (to: string) => boolean): string[] {
  return sources(folder).flatMap((file) =>
    importsOf(readFileSync(join(ROOT, file), 'utf8'))
      .filter((i) => bad(target(file, i.spec)))
      .map((i) => `${file}:${i.line} imports ${i.spec}`),
  )
}

describe('import layering', () => {
  it('finds static, re-exported, multi-line and dynamic imports, and skips comments', () => {
    const text = `import { a } from './a.ts'\nexport { b } from "../b.ts"\nimport {\n  c,\n} from './c.ts'\nimport './side.ts'\n// import x from './no.ts'\n * import y from './no.ts'\nconst m = await import('./d.ts')\n`
    expect(
      importsOf(text)
        .map((i) => i.spec)
        .sort(),
    ).toEqual(['../b.ts', './a.ts', './c.ts', './d.ts', './side.ts'])
  })

  it('nothing under runtime/ imports operators/', () => {
    expect(sources('runtime').length).toBeGreaterThan(50)
    expect(violations('runtime', (to) => to.startsWith('operators/') || to.startsWith('adas-forge/operators/'))).toEqual([])
  })

  it('operators/ import the runtime only through its public entries', () => {
    expect(sources('operators').length).toBeGreaterThan(50)
    const internal = (to: string) =>
      (to.startsWith('runtime/') && !PUBLIC.has(to)) ||
      (to.startsWith('adas-forge') && !PUBLIC_PACKAGE.has(to) && !to.startsWith('adas-forge/operators/'))
    expect(violations('operators', internal)).toEqual([])
  })
})
