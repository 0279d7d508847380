/**
 * The published package as a user gets it: `npm pack`, installed into a new project outside the repository,
 * `forge init`, then the scaffolded project's DAG listed, run once (a thread task and a process task), and
 * type-checked against the package's shipped sources. Skipped, saying why, when npm cannot install the
 * tarball's dependencies (an empty npm cache on a machine without the registry).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const TSC = join(REPO, 'node_modules/typescript/bin/tsc')
const NPM_UNAVAILABLE = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|E404/

interface Ran {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to the end (bounded), never throwing on a non-zero exit. */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

// The project's own environment: nothing points FORGE_* anywhere, so the defaults (./dags, ./.forge) apply.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FORGE_')))
const work = mkdtempSync(join(tmpdir(), 'forge-package-'))
const project = join(work, 'my-dags')
const forge = (...args: string[]) =>
  run(process.execPath, [join(project, 'node_modules/.bin/forge'), ...args], project, { ...env, FORGE_LOG_LEVEL: 'warn' })
const tsc = () => run(process.execPath, [TSC, '--noEmit', '-p', '.'], project, env)

let packed: { filename: string; files: Array<{ path: string }> }
let installFailure: string | null = null

beforeAll(async () => {
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], REPO, env)
  expect(pack.code, pack.stderr).toBe(0)
  packed = (JSON.parse(pack.stdout) as Array<typeof packed>)[0]!
  mkdirSync(project)
  expect((await run('npm', ['init', '-y'], project, env)).code).toBe(0)
  const install = await run('npm', ['install', join(work, packed.filename), '--prefer-offline', '--no-audit', '--no-fund'], project, env)
  if (install.code !== 0) {
    if (!NPM_UNAVAILABLE.test(install.stderr)) throw new Error(`npm install of the tarball failed:\n${install.stderr}`)
    installFailure = install.stderr.split('\n').find((l) => NPM_UNAVAILABLE.test(l)) ?? 'npm could not fetch a dependency'
  }
}, 150_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('the packed adas-forge', () => {
  it('holds the runtime, operators, docs, README and licence, and no tests, benchmarks, fixtures, results or infra', () => {
    const paths = packed.files.map((f) => f.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'runtime/index.ts',
        'runtime/cli/forge.mjs',
        'runtime/loader.mjs',
        'operators/carla/index.ts',
        'docs/operator-sdk.md',
      ]),
    )
    expect(paths.filter((p) => /^(tests|bench|infra|dags)\/|(^|\/)(fixtures|results)\/|\.test\.|\.env/.test(p))).toEqual([])
  })

  it('installs into a project outside the repository, where forge init, dags list, dags test and tsc work', async (ctx) => {
    if (installFailure) ctx.skip(`npm cannot install the tarball's dependencies here (${installFailure})`)
    const init = await forge('init')
    expect(init.code, init.stderr).toBe(0)
    expect(init.stdout).toContain('created dags/example.dag.ts')

    const [list, clean] = await Promise.all([forge('dags', 'list', '--json'), tsc()])
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout)).toEqual({
      dags: [{ dag_id: 'example', file: 'example.dag.ts', schedule: '@daily', tasks: ['count', 'sum', 'report'], is_paused: false }],
      errors: [],
    })
    expect(clean.stdout + clean.stderr, 'the scaffolded project type-checks').toBe('')
    expect(clean.code).toBe(0)

    // Not a *.dag.ts, so only tsc sees it: a ref used as the wrong type and a param the schema does not declare.
    writeFileSync(
      join(project, 'dags/misuse.ts'),
      [
        "import { defineDag, z } from 'adas-forge'",
        "export default defineDag({ id: 'misuse', schedule: null, params: z.object({ n: z.number().default(1) }) }, (dag) => {",
        "  const a = dag.task('a', () => ({ total: 1 }))",
        "  dag.task('b', { inputs: { name: a.out.total }, run: ({ inputs }) => inputs.name.toUpperCase() })",
        "  dag.task('c', ({ params }) => params.missing)",
        '})',
        '',
      ].join('\n'),
    )
    const [test, misuse] = await Promise.all([forge('dags', 'test', 'example'), tsc()])
    expect(test.code, test.stderr).toBe(0)
    expect(test.stdout).toMatch(/count try 1: success[\s\S]*sum try 1: success[\s\S]*report try 1: success[\s\S]*: success/)
    expect(existsSync(join(project, '.forge')), 'FORGE_HOME defaults to ./.forge in the project').toBe(true)
    // The process task ran in a prebuilt runner, which compiled the DAG file into the installation's cache.
    const cache = join(project, 'node_modules/adas-forge/node_modules/.cache/adas-forge')
    const runners = existsSync(cache) ? readdirSync(cache).filter((d) => d.startsWith('runner-')) : []
    expect(runners.some((r) => existsSync(join(cache, r, 'dags')) && readdirSync(join(cache, r, 'dags')).length > 0)).toBe(true)
    expect(misuse.code).not.toBe(0)
    expect(misuse.stdout).toContain('dags/misuse.ts(4,')
    expect(misuse.stdout).toContain("Property 'toUpperCase' does not exist on type 'number'")
    expect(misuse.stdout).toContain("Property 'missing' does not exist on type '{ n: number; }'")
  }, 180_000)
})
