import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeCodeDigest } from '../../../runtime/dag/code-digest.ts'
import { defineDag, type DagDefinition } from '../../../runtime/dag/define-dag.ts'
import { buildCacheRoot } from '../../../runtime/prebuilt/build-cache.ts'
import { compiledDag } from '../../../runtime/prebuilt/dag-bundle.ts'
import { ensureRunnerBundle, type RunnerBundle } from '../../../runtime/prebuilt/runner-bundle.ts'
import { RUNTIME_DIR } from '../../../runtime/prebuilt/package-self.ts'
import { wholeLog } from '../../../runtime/store/attempt-log.ts'
import { runDagOnce } from '../../helpers/run-dag.ts'
import { openTestStore, type TestStore } from '../../helpers/stores.ts'

/**
 * A DAG project folder: a DAG file importing adas-forge, a local helper, a TypeScript package under node_modules
 * (compiled in) and, through lib/js.ts, a JavaScript package (imported by URL).
 */
async function project(): Promise<{ dir: string; dag: string; helper: string; pkg: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-prebuilt-'))
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  await mkdir(join(dir, 'lib'))
  await mkdir(join(dir, 'node_modules', 'ts-pkg'), { recursive: true })
  await writeFile(join(dir, 'node_modules', 'ts-pkg', 'package.json'), '{ "name": "ts-pkg", "type": "module", "exports": "./index.ts" }\n')
  const paths = {
    dir,
    dag: join(dir, 'prebuilt.dag.ts'),
    helper: join(dir, 'lib', 'helper.ts'),
    pkg: join(dir, 'node_modules', 'ts-pkg', 'index.ts'),
  }
  await writeFile(paths.dag, dagSource('body-v1'))
  await writeFile(paths.helper, `export const helperValue = (): string => 'helper-v1'\n`)
  await writeFile(paths.pkg, `export const pkgValue = (): string => 'pkg-v1'\n`)
  await jsPackage(join(dir, 'node_modules'), 'js-v1')
  await writeFile(join(dir, 'lib', 'js.ts'), `export { jsValue } from 'js-pkg'\n`)
  return paths
}

async function jsPackage(nodeModules: string, value: string): Promise<void> {
  await mkdir(join(nodeModules, 'js-pkg'), { recursive: true })
  await writeFile(join(nodeModules, 'js-pkg', 'package.json'), '{ "name": "js-pkg", "type": "module", "exports": "./index.js" }\n')
  await writeFile(join(nodeModules, 'js-pkg', 'index.js'), `export const jsValue = () => '${value}'\n`)
}

const dagSource = (body: string) => `import { defineDag } from 'adas-forge'
import { helperValue } from './lib/helper.ts'
import { jsValue } from './lib/js.ts'
import { pkgValue } from 'ts-pkg'
export { defineDag as usedDefineDag } from 'adas-forge'
export { defineDag as relativeDefineDag } from ${JSON.stringify(join(RUNTIME_DIR, 'index.ts'))}
export const where = import.meta.url

export default defineDag({ id: 'prebuilt', defaults: { isolation: 'process' } }, (dag) => {
  dag.task('values', () => ({ body: '${body}', helper: helperValue(), pkg: pkgValue(), js: jsValue(), argv: process.execArgv.join(' '), navigator: typeof globalThis.navigator }))
})
`

type DagModule = { default: DagDefinition; usedDefineDag: unknown; relativeDefineDag: unknown; where: string }

/** The compiled module for the DAG's files as they are now, imported fresh, with its task's result. */
async function compileAndRun(bundle: RunnerBundle, dag: string) {
  const digest = computeCodeDigest(dag).digest
  const compiled = await compiledDag(bundle, dag, digest)
  const mod = (await import(`${pathToFileURL(compiled.module).href}?t=${Date.now()}`)) as DagModule
  const task = mod.default.tasks.get('values')!
  return { ...compiled, digest, mod, value: (await (task.run as () => Promise<unknown>)()) as Record<string, string> }
}

describe('the prebuilt runner and its compiled DAG modules', () => {
  let bundle: RunnerBundle
  let p: Awaited<ReturnType<typeof project>>
  beforeAll(async () => {
    bundle = await ensureRunnerBundle(buildCacheRoot(join(tmpdir(), 'forge-prebuilt-home')))
    p = await project()
  }, 120_000)
  afterAll(() => (p ? rm(p.dir, { recursive: true, force: true }) : undefined))

  it("maps the DAG's adas-forge imports, by name or by the runtime's path, to the runner's own modules", async () => {
    const r = await compileAndRun(bundle, p.dag)
    const api = (await import(bundle.entries[join(RUNTIME_DIR, 'index.ts')]!)) as { defineDag: unknown }
    expect(r.mod.usedDefineDag).toBe(api.defineDag)
    expect(r.mod.relativeDefineDag).toBe(api.defineDag)
    // import.meta.url still names the source file, not the cache.
    expect(r.mod.where).toBe(pathToFileURL(p.dag).href)
    expect(r.value).toMatchObject({ body: 'body-v1', helper: 'helper-v1', pkg: 'pkg-v1' })
  })

  it('finds an unchanged DAG in the cache, and compiles it again once its file, a helper or a compiled package is edited', async () => {
    const first = await compileAndRun(bundle, p.dag)
    expect(await compileAndRun(bundle, p.dag)).toMatchObject({ built: false, module: first.module })

    await writeFile(p.dag, dagSource('body-v2'))
    const body = await compileAndRun(bundle, p.dag)
    expect(body.digest).not.toBe(first.digest)
    expect(body).toMatchObject({ built: true, value: { body: 'body-v2', helper: 'helper-v1' } })

    await writeFile(p.helper, `export const helperValue = (): string => 'helper-v2'\n`)
    const helper = await compileAndRun(bundle, p.dag)
    expect(helper.digest).not.toBe(body.digest)
    expect(helper).toMatchObject({ built: true, value: { body: 'body-v2', helper: 'helper-v2', pkg: 'pkg-v1' } })

    // Outside the code digest (node_modules), but compiled in: its hash is checked at every lookup.
    await writeFile(p.pkg, `export const pkgValue = (): string => 'pkg-v2'\n`)
    const pkg = await compileAndRun(bundle, p.dag)
    expect(pkg.digest).toBe(helper.digest)
    expect(pkg).toMatchObject({ built: true, value: { helper: 'helper-v2', pkg: 'pkg-v2', js: 'js-v1' } })
    expect(await compileAndRun(bundle, p.dag)).toMatchObject({ built: false, module: pkg.module })

    // A copy of the JavaScript package installed nearer to lib/js.ts is the one Node would now load.
    await jsPackage(join(p.dir, 'lib', 'node_modules'), 'js-v2')
    const js = await compileAndRun(bundle, p.dag)
    expect(js.digest).toBe(helper.digest)
    expect(js).toMatchObject({ built: true, value: { pkg: 'pkg-v2', js: 'js-v2' } })
  })

  it('refuses to compile a DAG file that Node would load as CommonJS', async () => {
    await writeFile(join(p.dir, 'package.json'), '{}\n')
    try {
      await expect(compiledDag(bundle, p.dag, computeCodeDigest(p.dag).digest)).rejects.toThrow(/loads as CommonJS/)
    } finally {
      await writeFile(join(p.dir, 'package.json'), '{ "type": "module" }\n')
    }
  })

  it('refuses a helper whose dynamic import names a computed path, which would resolve against the cache folder', async () => {
    const lazy = join(p.dir, 'lib', 'lazy.ts')
    await writeFile(join(p.dir, 'lib', 'lazy-target.ts'), `export const lazyValue = 'lazy'\n`)
    await writeFile(lazy, `const target = './lazy-target.ts'\nexport const loadLazy = () => import(target)\n`)
    await writeFile(p.dag, `${dagSource('body-lazy')}export { loadLazy } from './lib/lazy.ts'\n`)
    try {
      await expect(compiledDag(bundle, p.dag, computeCodeDigest(p.dag).digest)).rejects.toThrow(
        /lazy\.ts imports a computed specifier \(import\(target\)/,
      )
      // A literal one is followed into the build and works from the cache folder.
      await writeFile(lazy, `export const loadLazy = () => import('./lazy-target.ts')\n`)
      const compiled = await compiledDag(bundle, p.dag, computeCodeDigest(p.dag).digest)
      const mod = (await import(`${pathToFileURL(compiled.module).href}?t=${Date.now()}`)) as { loadLazy: () => Promise<unknown> }
      expect(await mod.loadLazy()).toMatchObject({ lazyValue: 'lazy' })
    } finally {
      await writeFile(p.dag, dagSource('body-v1'))
    }
  })
})

/** Through the local executor: each attempt a fresh prebuilt runner process, which compiles the DAG on a new digest. */
describe('process attempts in prebuilt runners', () => {
  let t: TestStore
  let p: Awaited<ReturnType<typeof project>>
  let cjs: string
  // The shape the scheduler needs; the runner imports the file itself.
  const def = defineDag({ id: 'prebuilt', defaults: { isolation: 'process' } }, (dag) => void dag.task('values', () => null))
  beforeAll(async () => {
    t = await openTestStore('pglite')
    p = await project()
    // A DAG folder without "type": "module": tsx loads its files as CommonJS, which the prebuilt runner leaves to tsx.
    cjs = await mkdtemp(join(tmpdir(), 'forge-prebuilt-cjs-'))
    await writeFile(join(cjs, 'package.json'), '{}\n')
    await writeFile(join(cjs, 'helper.ts'), `export const helperValue = (): string => 'cjs-helper'\n`)
    await writeFile(
      join(cjs, 'prebuilt.dag.ts'),
      `import { defineDag } from 'adas-forge'\nimport { helperValue } from './helper.ts'\n` +
        `export default defineDag({ id: 'prebuilt', defaults: { isolation: 'process' } }, (dag) => {\n` +
        `  dag.task('values', () => ({ helper: helperValue() }))\n})\n`,
    )
  }, 120_000)
  afterAll(async () => {
    await t?.cleanup()
    for (const dir of [p?.dir, cjs]) if (dir) await rm(dir, { recursive: true, force: true })
  })

  const run = async (dagsFolder = p.dir) => {
    const r = await runDagOnce(t.store, def, 'prebuilt.dag.ts', {}, { dagsFolder, heartbeatTimeoutMs: 30_000 })
    const log = await t.store.db
      .selectFrom('task_attempt as a')
      .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
      .select(wholeLog('a').as('log'))
      .where('ti.dag_run_id', '=', r.run.id)
      .executeTakeFirstOrThrow()
    return { state: r.run.state, value: (await r.xcom('values')) as Record<string, string>, log: log.log ?? '' }
  }

  it('runs the compiled module without tsx, and the next attempt after an edit runs the edited code', async () => {
    const first = await run()
    expect(first.state).toBe('success')
    expect(first.value).toMatchObject({ body: 'body-v1', helper: 'helper-v1' })
    expect(first.value.argv).not.toMatch(/loader\.mjs|tsx/)
    // The runner's preload for pg's Cloudflare check (runner-navigator.mjs) is gone before task code runs.
    expect(first.value.navigator).toBe(Number(process.versions.node.split('.')[0]) >= 21 ? 'object' : 'undefined')
    expect(first.log).not.toMatch(/runs through tsx/)

    await writeFile(p.helper, `export const helperValue = (): string => 'helper-v3'\n`)
    const edited = await run()
    expect(edited.value).toMatchObject({ body: 'body-v1', helper: 'helper-v3' })
    expect(edited.log).toMatch(/compiled .*prebuilt\.dag\.ts .* for the prebuilt runner/)
  })

  it('runs a DAG it cannot compile through tsx, saying why in the log', async () => {
    const r = await run(cjs)
    expect(r.state).toBe('success')
    expect(r.log).toMatch(/could not compile .* so it runs through tsx: .*loads as CommonJS/)
    expect(r.value).toEqual({ helper: 'cjs-helper' })
  })
})
