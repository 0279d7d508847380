import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkCodeDigest } from '../../../runtime/dag/check-code-digest.ts'
import { CodeDigests, computeCodeDigest } from '../../../runtime/dag/code-digest.ts'
import { localModuleGraph } from '../../../runtime/dag/module-graph.ts'

const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'forge-digest-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const put = async (rel: string, text: string) => {
  await mkdir(join(dir, rel, '..'), { recursive: true })
  await writeFile(join(dir, rel), text)
}
const names = (file: string) =>
  localModuleGraph(join(dir, file)).files.map((f) => f.slice(f.lastIndexOf('forge-digest-')).split('/').slice(1).join('/'))

describe('localModuleGraph', () => {
  it('follows relative imports with .ts suffixes, .js naming .ts, missing extensions and folder indexes', async () => {
    await put(
      'a.dag.ts',
      [
        `import { b } from './lib/b.ts'`,
        `import { c } from './lib/c.js'`,
        `export * from './lib/d'`,
        `import { e } from './lib/e'`,
        `const later = () => import('./lib/f.ts')`,
        `import { defineDag } from ${JSON.stringify(RUNTIME)}`,
        `import { z } from 'zod'`,
        `import { readFile } from 'node:fs'`,
        `import type { T } from './lib/types.ts'`,
        `import data from './data.json' with { type: 'json' }`,
      ].join('\n'),
    )
    await put('lib/b.ts', 'export const b = 1')
    await put('lib/c.ts', 'export const c = 1')
    await put('lib/d.ts', 'export const d = 1')
    await put('lib/e/index.ts', 'export const e = 1')
    await put('lib/f.ts', 'export const f = 1')
    await put('lib/types.ts', 'export type T = number')
    await put('data.json', '{}')
    expect(names('a.dag.ts')).toEqual(['a.dag.ts', 'data.json', 'lib/b.ts', 'lib/c.ts', 'lib/d.ts', 'lib/e/index.ts', 'lib/f.ts'])
  })

  it('visits each module of an import cycle once', async () => {
    await put('a.dag.ts', `import './x.ts'`)
    await put('x.ts', `import { y } from './y.ts'\nexport const x = 1`)
    await put('y.ts', `import { x } from './x.ts'\nimport './a.dag.ts'\nexport const y = 1`)
    expect(names('a.dag.ts')).toEqual(['a.dag.ts', 'x.ts', 'y.ts'])
  })

  it('leaves out node_modules and the runtime, and records specifiers that name no file', async () => {
    await put('node_modules/pkg/index.js', `import '../../helper.ts'`)
    await put('helper.ts', 'export {}')
    await put('a.dag.ts', `import './node_modules/pkg/index.js'\nimport './missing.ts'`)
    const graph = localModuleGraph(join(dir, 'a.dag.ts'))
    expect(graph.files).toHaveLength(1)
    expect(graph.unresolved).toEqual([`${graph.entry}: ./missing.ts`])
  })

  it('names a symlinked module by its real path', async () => {
    await put('real/h.ts', 'export const h = 1')
    await symlink(join(dir, 'real'), join(dir, 'linked'))
    await put('a.dag.ts', `import './linked/h.ts'`)
    expect(names('a.dag.ts')).toEqual(['a.dag.ts', 'real/h.ts'])
  })
})

describe('computeCodeDigest', () => {
  it('changes with the DAG file and with any module it imports, and does not depend on where the folder is', async () => {
    await put('a.dag.ts', `import { h } from './lib/h.ts'\nexport default h`)
    await put('lib/h.ts', 'export const h = 1')
    const first = computeCodeDigest(join(dir, 'a.dag.ts')).digest
    expect(first).toMatch(/^[0-9a-f]{64}$/)
    expect(computeCodeDigest(join(dir, 'a.dag.ts')).digest).toBe(first)

    const copy = await mkdtemp(join(tmpdir(), 'forge-digest-copy-'))
    try {
      await mkdir(join(copy, 'lib'))
      await writeFile(join(copy, 'a.dag.ts'), `import { h } from './lib/h.ts'\nexport default h`)
      await writeFile(join(copy, 'lib/h.ts'), 'export const h = 1')
      expect(computeCodeDigest(join(copy, 'a.dag.ts')).digest).toBe(first)
    } finally {
      await rm(copy, { recursive: true, force: true })
    }

    await put('lib/h.ts', 'export const h = 2')
    const helperEdited = computeCodeDigest(join(dir, 'a.dag.ts')).digest
    expect(helperEdited).not.toBe(first)
    await put('a.dag.ts', `import { h } from './lib/h.ts'\nexport default h + 0`)
    expect(computeCodeDigest(join(dir, 'a.dag.ts')).digest).not.toBe(helperEdited)
  })
})

describe('CodeDigests', () => {
  it('reuses a digest while nothing changed and sees an edit to a helper, a new file where a specifier resolves, a fixed import', async () => {
    const digests = new CodeDigests()
    await put('a.dag.ts', `import './lib/h'\nimport './gone.ts'`)
    await put('lib/h/index.ts', 'export const h = 1')
    const broken = digests.current(join(dir, 'a.dag.ts'))
    expect(broken.graph.unresolved).toHaveLength(1)
    await put('gone.ts', 'export {}')
    const fixed = digests.current(join(dir, 'a.dag.ts'))
    expect(fixed.graph.unresolved).toEqual([])
    expect(fixed.digest).not.toBe(broken.digest)
    expect(digests.current(join(dir, 'a.dag.ts'))).toBe(fixed)

    await put('lib/h/index.ts', 'export const h = 22')
    const edited = digests.current(join(dir, 'a.dag.ts'))
    expect(edited.digest).not.toBe(fixed.digest)
    // `./lib/h` now means lib/h.ts, which takes precedence over the folder's index.
    await put('lib/h.ts', 'export const h = 3')
    const shadowed = digests.current(join(dir, 'a.dag.ts'))
    expect(shadowed.digest).not.toBe(edited.digest)
    expect(shadowed.graph.files.some((f) => f.endsWith('/lib/h.ts'))).toBe(true)
  })
})

describe('checkCodeDigest', () => {
  it('reports no change when the code is the run’s, and the old and new digest when it is not', async () => {
    await put('a.dag.ts', `import './h.ts'`)
    await put('h.ts', 'export const h = 1')
    const digests = new CodeDigests()
    const atStart = computeCodeDigest(join(dir, 'a.dag.ts')).digest
    expect(checkCodeDigest(join(dir, 'a.dag.ts'), atStart, digests)).toEqual({ ran: atStart, expected: atStart, changed: false, message: null })

    await put('h.ts', 'export const h = 2')
    const check = checkCodeDigest(join(dir, 'a.dag.ts'), atStart, digests)
    expect(check.changed).toBe(true)
    expect(check.ran).toBe(computeCodeDigest(join(dir, 'a.dag.ts')).digest)
    expect(check.message).toBe(
      `code changed since the run started (${atStart.slice(0, 12)} -> ${check.ran.slice(0, 12)}): this attempt runs the current code`,
    )
  })

  it('has nothing to compare for a run recorded without a digest', async () => {
    await put('a.dag.ts', 'export {}')
    const check = checkCodeDigest(join(dir, 'a.dag.ts'), null, new CodeDigests())
    expect(check.changed).toBe(false)
    expect(check.message).toBeNull()
    expect(check.ran).toMatch(/^[0-9a-f]{64}$/)
  })
})
