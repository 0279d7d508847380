import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STORE_KINDS, createTestDatabase } from '../../helpers/stores.ts'

const FORGE = fileURLToPath(new URL('../../../runtime/cli/forge.mjs', import.meta.url))
const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))
const run = promisify(execFile)

// Each test starts several `forge` processes (tsx start-up plus DAG processing each): on a loaded 2-core machine a
// test took 35 s, so the limit is generous; nothing here measures speed.
describe.each(STORE_KINDS)('forge CLI on %s', (kind) => {
  const home = mkdtempSync(join(tmpdir(), 'forge-cli-'))
  const dags = join(home, 'dags')
  let env: Record<string, string>
  let drop = async () => {}

  beforeAll(async () => {
    mkdirSync(dags)
    writeFileSync(
      join(dags, 'cli_demo.dag.ts'),
      `import { defineDag, z } from '${RUNTIME}'
export default defineDag({ id: 'cli_demo', schedule: '@daily', params: z.object({ n: z.number().int().min(1).default(2) }) }, (dag) => {
  const a = dag.task('count', ({ params, log }) => { log('counting to ' + params.n); return { n: params.n } }, { isolation: 'thread' })
  dag.shell('say', 'echo "n is $FORGE_INPUT_N"', { inputs: { n: a.out.n } })
})
`,
    )
    writeFileSync(
      join(dags, 'broken.dag.ts'),
      `import { defineDag } from '${RUNTIME}'\nexport default defineDag({ id: 'broken' }, (dag) => {\n  dag.task('a', () => 1, { after: ['nope'] })\n})\n`,
    )
    env = { ...(process.env as Record<string, string>), FORGE_HOME: join(home, 'state'), FORGE_DAGS_FOLDER: dags, FORGE_LOG_LEVEL: 'warn' }
    delete env.FORGE_DATABASE_URL
    if (kind === 'postgres') {
      const db = await createTestDatabase()
      env.FORGE_DATABASE_URL = db.url
      drop = db.drop
    }
  })
  afterAll(() => drop())

  const forge = async (...args: string[]) => {
    try {
      const r = await run(process.execPath, [FORGE, ...args], { env, timeout: 60_000 })
      return { code: 0, stdout: r.stdout, stderr: r.stderr }
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string }
      return { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
  }

  it('dags list --json loads every good DAG and reports the broken file with its line, exit 0', async () => {
    const r = await forge('dags', 'list', '--json')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    const demo = out.dags.find((d: { dag_id: string }) => d.dag_id === 'cli_demo')
    expect(demo).toEqual({ dag_id: 'cli_demo', file: 'cli_demo.dag.ts', schedule: '@daily', tasks: ['count', 'say'], is_paused: false })
    expect(out.errors).toEqual([{ file: 'broken.dag.ts', line: 3, message: expect.stringContaining('depends on unknown task "nope"') }])
  }, 180_000)

  it('picks a broken file up again once it is fixed, and clears its import error', async () => {
    writeFileSync(
      join(dags, 'broken.dag.ts'),
      `import { defineDag } from '${RUNTIME}'\nexport default defineDag({ id: 'broken' }, (dag) => {\n  dag.task('a', () => 1)\n})\n`,
    )
    const out = JSON.parse((await forge('dags', 'list', '--json')).stdout)
    expect(out.errors).toEqual([])
    expect(out.dags.map((d: { dag_id: string }) => d.dag_id).sort()).toEqual(['broken', 'cli_demo'])
  }, 180_000)

  it('trigger rejects a bad --conf naming the field, and creates no run', async () => {
    const r = await forge('trigger', 'cli_demo', '--conf', '{"n": 0}')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('param "n"')
    expect(JSON.parse((await forge('runs', 'list', '--json')).stdout)).toEqual([])
  }, 180_000)

  it('trigger --wait runs to success; runs list, tasks list and logs show it', async () => {
    const r = await forge('trigger', 'cli_demo', '--conf', '{"n": 5}', '--wait')
    expect(r.code).toBe(0)
    const runId = r.stdout.trim().split('\n')[0]!
    expect(runId).toMatch(/^manual__\d{4}-\d\d-\d\dT[\d:.]+Z_[0-9a-f]{8}$/)
    const runs = JSON.parse((await forge('runs', 'list', '--json')).stdout)
    expect(runs).toEqual([
      {
        dag_id: 'cli_demo',
        run_id: runId,
        state: 'success',
        logical_date: expect.any(String),
        start: expect.any(String),
        end: expect.any(String),
        reason: null,
        code_digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ])
    const tasks = JSON.parse((await forge('tasks', 'list', runId, '--json')).stdout)
    expect(
      tasks.map((t: { task_id: string; state: string; try_number: number; map_index: number }) => [t.task_id, t.state, t.try_number, t.map_index]),
    ).toEqual([
      ['count', 'success', 1, -1],
      ['say', 'success', 1, -1],
    ])
    expect(Object.keys(tasks[0]).sort()).toEqual(['end', 'executor_id', 'map_index', 'operator', 'start', 'state', 'task_id', 'try_number'])
    expect(tasks.map((t: { operator: string | null }) => t.operator)).toEqual([null, 'shell'])
    const logs = await forge('logs', runId, 'say')
    expect(logs.stdout).toContain('n is 5')
    expect((await forge('logs', runId, 'count', '--try', '1')).stdout).toContain('counting to 5')
  }, 180_000)

  it('backfill creates one run per interval, and --help explains each command', async () => {
    const r = await forge('backfill', 'cli_demo', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-04T00:00:00Z')
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n')).toEqual(['01', '02', '03'].map((d) => `backfill__2026-01-${d}T00:00:00.000Z`))
    const help = await forge('backfill', '--help')
    expect(help.stdout).toContain('every schedule interval starting in [--from, --to)')
  }, 180_000)
})
