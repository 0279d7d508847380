import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { RUNTIME, forge, forgeHome } from '../../helpers/forge-cli.ts'

/** A usage error is one line on stderr that names the option and its value, exit 2, and no stack trace. */
function expectUsageError(r: { code: number; stdout: string; stderr: string }, ...parts: string[]): void {
  expect(r.code).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  for (const p of parts) expect(lines[0]).toContain(p)
  expect(r.stderr).not.toMatch(/^\s+at /m)
}

describe('forge CLI options are checked before anything reaches the database', () => {
  // Nothing listens on port 1: a command that opened the store before checking its options would fail to connect.
  const { env } = forgeHome('forge-opts-', 'postgres://postgres@127.0.0.1:1/nowhere')

  it.each([
    [['logs', 'r', 't', '--try', 'abc'], '--try', '"abc"'],
    [['logs', 'r', 't', '--try', '0'], '--try', '"0"'],
    [['logs', 'r', 't', '--map-index', 'xyz'], '--map-index', '"xyz"'],
    [['logs', 'r', 't', '--map-index', '1.5'], '--map-index', '"1.5"'],
    [['backfill', 'd', '--from', 'yesterday', '--to', '2026-01-02'], '--from', '"yesterday"'],
    [['backfill', 'd', '--from', '2026-01-01', '--to', '2026-02-30'], '--to', '"2026-02-30"'],
    [['backfill', 'd', '--from', '2026-01-03', '--to', '2026-01-01'], '--from', '--to'],
    [['backfill', 'd', '--from', '2026-01-01', '--to', '2026-01-02', '--conf', '{"n":'], '--conf', 'not valid JSON'],
    [['trigger', 'd', '--conf', '[1, 2]'], '--conf', 'a JSON object'],
    [['dags', 'test', 'd', '--conf', 'nope'], '--conf', 'not valid JSON'],
    [['pools', 'set', 'gpu', 'many'], 'SLOTS', '"many"'],
    [['pools', 'set', 'gpu', '-1'], 'SLOTS', '"-1"'],
    [['pools', 'set', 'bad name', '2'], 'NAME', '"bad name"'],
    [['carla-lite', '--tm-port', '70000'], '--tm-port', '"70000"'],
  ])(
    'forge %j is refused naming the option',
    async (args, ...parts) => {
      expectUsageError(await forge(env, ...(args as string[])), ...(parts as string[]))
    },
    320_000,
  )

  it('forge --version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
    expect(await forge(env, '--version')).toMatchObject({ code: 0, stdout: `${version}\n` })
  }, 320_000)

  it('an unknown option is a usage error too (exit 2), named on the first line before the help', async () => {
    const r = await forge(env, 'runs', 'list', '--bogus')
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe("error: unknown option '--bogus'")
  }, 320_000)

  it('a database that does not answer is one line naming FORGE_DATABASE_URL with its password hidden, not a stack', async () => {
    const { env: withPassword } = forgeHome('forge-opts-db-', 'postgres://postgres:s3cret@127.0.0.1:1/nowhere')
    const r = await forge(withPassword, 'runs', 'list')
    expectUsageError(r, 'FORGE_DATABASE_URL=postgres://postgres:***@127.0.0.1:1/nowhere', 'ECONNREFUSED')
    expect(r.stderr).not.toContain('s3cret')
  }, 320_000)
})

describe('forge conf and pools on the embedded store', () => {
  const { dags, env } = forgeHome('forge-conf-')
  beforeAll(() => {
    writeFileSync(
      join(dags, 'conf_demo.dag.ts'),
      `import { defineDag, z } from '${RUNTIME}'
export default defineDag({ id: 'conf_demo', schedule: '@daily', params: z.object({ n: z.number().int().min(1).default(2) }) }, (dag) => {
  dag.task('t', ({ params }) => params.n, { isolation: 'thread' })
})
`,
    )
    writeFileSync(
      join(dags, 'bad_default.dag.ts'),
      `import { defineDag, z } from '${RUNTIME}'
export default defineDag({ id: 'bad_default', params: z.object({ n: z.number().min(5).default(1) }) }, (dag) => {
  dag.task('t', () => 1)
})
`,
    )
    writeFileSync(
      join(dags, 'scheduled_required.dag.ts'),
      `import { defineDag, z } from '${RUNTIME}'
export default defineDag({ id: 'scheduled_required', schedule: '@daily', params: z.object({ bucket: z.string() }) }, (dag) => {
  dag.task('t', () => 1)
})
`,
    )
  })

  it('dags list reports a default that fails its own schema, and a scheduled DAG without defaults, naming the field', async () => {
    const out = JSON.parse((await forge(env, 'dags', 'list', '--json')).stdout)
    expect(out.dags.map((d: { dag_id: string }) => d.dag_id)).toEqual(['conf_demo'])
    expect(out.errors).toEqual([
      { file: 'bad_default.dag.ts', line: expect.anything(), message: expect.stringContaining('param "n": default 1 fails its own schema') },
      { file: 'scheduled_required.dag.ts', line: expect.anything(), message: expect.stringContaining('param "bucket"') },
    ])
  }, 480_000)

  it('trigger, dags test and backfill refuse an unknown --conf key by name and create no run', async () => {
    expectUsageError(await forge(env, 'trigger', 'conf_demo', '--conf', '{"m": 3}'), 'param "m"', 'unknown key')
    expectUsageError(await forge(env, 'dags', 'test', 'conf_demo', '--conf', '{"m": 3}'), 'param "m"', 'unknown key')
    expectUsageError(
      await forge(env, 'backfill', 'conf_demo', '--from', '2026-01-01', '--to', '2026-01-03', '--conf', '{"m": 3}'),
      'param "m"',
      'unknown key',
    )
    expect(JSON.parse((await forge(env, 'runs', 'list', '--json')).stdout)).toEqual([])
  }, 480_000)

  it('backfill checks --conf against the schema before creating runs, and creates them with a valid one', async () => {
    expectUsageError(await forge(env, 'backfill', 'conf_demo', '--from', '2026-01-01', '--to', '2026-01-03', '--conf', '{"n": 0}'), 'param "n"')
    expect(JSON.parse((await forge(env, 'runs', 'list', '--json')).stdout)).toEqual([])
    const ok = await forge(env, 'backfill', 'conf_demo', '--from', '2026-01-01', '--to', '2026-01-03', '--conf', '{"n": 3}')
    expect(ok.code).toBe(0)
    expect(ok.stdout.trim().split('\n')).toEqual(['backfill__2026-01-01T00:00:00.000Z', 'backfill__2026-01-02T00:00:00.000Z'])
  }, 480_000)

  it('pools list shows the default pools; pools set resizes one and refuses a bad SLOTS, leaving it as it was', async () => {
    const before = JSON.parse((await forge(env, 'pools', 'list', '--json')).stdout)
    expect(before.map((p: { name: string; slots: number }) => [p.name, p.slots])).toEqual([
      ['default_pool', expect.any(Number)],
      ['gpu', 2],
    ])
    const set = await forge(env, 'pools', 'set', 'gpu', '4', '--description', 'four GPUs')
    expect(set).toMatchObject({ code: 0, stdout: 'pool gpu: 4 slot(s)\n' })
    expectUsageError(await forge(env, 'pools', 'set', 'gpu', '4.5'), 'SLOTS', '"4.5"')
    const after = JSON.parse((await forge(env, 'pools', 'list', '--json')).stdout)
    expect(after.find((p: { name: string }) => p.name === 'gpu')).toEqual({ name: 'gpu', slots: 4, description: 'four GPUs' })
    const table = (await forge(env, 'pools', 'list')).stdout
    expect(table).toMatch(/^gpu\s+4\s+four GPUs$/m)
  }, 480_000)
})
