import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RUNTIME, forge, forgeHome, type ForgeResult } from '../../helpers/forge-cli.ts'
import { STORE_KINDS, createTestDatabase } from '../../helpers/stores.ts'

/** A refusal is one line on stderr naming what is wrong, with its exit code, and no stack trace. */
function expectRefused(r: ForgeResult, code: number, ...parts: string[]): void {
  expect(r.code).toBe(code)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  for (const p of parts) expect(lines[0]).toContain(p)
}

// Each step is a `forge` process (tsx start-up plus, for some, DAG processing): generous limits, nothing is timed.
describe.each(STORE_KINDS)('forge dags pause|unpause, clear and tasks mark on %s', (kind) => {
  const { home, dags, env } = forgeHome('forge-svc-cli-')
  const gate = join(home, 'gate')
  let drop = async () => {}
  let runId = ''
  const run = (...args: string[]) => forge(env, ...args)
  const tasks = async () =>
    (JSON.parse((await run('tasks', 'list', runId, '--json')).stdout) as Array<{ task_id: string; state: string | null; try_number: number }>).map(
      (t) => `${t.task_id}:${t.state ?? 'none'}:${t.try_number}`,
    )
  const runState = async () =>
    (JSON.parse((await run('runs', 'list', '--json')).stdout) as Array<{ run_id: string; state: string }>).find((r) => r.run_id === runId)?.state

  beforeAll(async () => {
    writeFileSync(
      join(dags, 'gated.dag.ts'),
      `import { existsSync } from 'node:fs'
import { defineDag } from '${RUNTIME}'
export default defineDag({ id: 'gated' }, (dag) => {
  const a = dag.task('a', () => 1, { isolation: 'thread' })
  const b = dag.task('b', { inputs: { a: a.out }, run: () => { if (!existsSync(${JSON.stringify(gate)})) throw new Error('no gate'); return 2 } }, { isolation: 'thread' })
  dag.task('c', () => 3, { after: [b], isolation: 'thread' })
})
`,
    )
    if (kind === 'postgres') {
      const db = await createTestDatabase()
      env.FORGE_DATABASE_URL = db.url
      drop = db.drop
    }
  })
  afterAll(() => drop())

  it('pauses a DAG: a manual run is created but waits, and --wait is refused; unpausing lets it run', async () => {
    expect(await run('dags', 'pause', 'gated')).toMatchObject({ code: 0, stdout: 'gated paused\n' })
    const listed = JSON.parse((await run('dags', 'list', '--json')).stdout)
    expect(listed.dags).toEqual([expect.objectContaining({ dag_id: 'gated', is_paused: true })])
    expectRefused(await run('trigger', 'gated', '--wait'), 4, 'DAG "gated" is paused', 'forge dags unpause gated')
    const triggered = await run('trigger', 'gated')
    expect(triggered.code).toBe(0)
    expect(triggered.stderr).toContain('gated is paused: the run stays queued')
    runId = triggered.stdout.trim()
    // The scheduler has nothing it may do: it goes idle at once, and the run is still queued.
    expect((await run('scheduler', '--until-idle')).code).toBe(0)
    expect(await runState()).toBe('queued')
    expect(await run('dags', 'unpause', 'gated')).toMatchObject({ code: 0, stdout: 'gated unpaused\n' })
    expect(await run('dags', 'unpause', 'gated')).toMatchObject({ code: 0, stdout: 'gated was unpaused already\n' })
    expect((await run('scheduler', '--until-idle')).code).toBe(0)
    expect(await runState()).toBe('failed')
    expect(await tasks()).toEqual(['a:success:1', 'b:failed:1', 'c:upstream_failed:0'])
  }, 600_000)

  it('marks the failed task success: its downstream is decided again and the run succeeds', async () => {
    const marked = await run('tasks', 'mark', runId, 'b', '--state', 'success')
    expect(marked).toMatchObject({ code: 0, stdout: 'b marked success; decided again: c; the run is queued\n' })
    expect((await run('scheduler', '--until-idle')).code).toBe(0)
    expect(await runState()).toBe('success')
    expect(await tasks()).toEqual(['a:success:1', 'b:success:1', 'c:success:1'])
  }, 600_000)

  it('clears a task with its downstream: they run again as their next try', async () => {
    writeFileSync(gate, '')
    const cleared = await run('clear', runId, '--task', 'b', '--downstream')
    expect(cleared).toMatchObject({ code: 0, stdout: `${runId}: 2 task instance(s) cleared; the run is queued\n` })
    expect(await tasks()).toEqual(['a:success:1', 'b:none:1', 'c:none:1'])
    expect((await run('scheduler', '--until-idle')).code).toBe(0)
    expect(await tasks()).toEqual(['a:success:1', 'b:success:2', 'c:success:2'])
    const logs = await run('logs', runId, 'b')
    expect(logs.stdout).toContain('--- b try 1: failed')
    expect(logs.stdout).toContain('--- b try 2: success')
  }, 600_000)

  it('refuses what names nothing (exit 3) and bad values (exit 2) with one line each', async () => {
    expectRefused(await run('clear', 'no_such_run'), 3, 'no run "no_such_run"')
    expectRefused(await run('clear', runId, '--task', 'zzz'), 3, 'no task "zzz" in DAG "gated"')
    expectRefused(await run('tasks', 'mark', runId, 'zzz', '--state', 'failed'), 3, 'no task "zzz" in run')
    expectRefused(await run('dags', 'pause', 'no_such_dag'), 3, 'no DAG "no_such_dag"')
    expectRefused(await run('tasks', 'mark', runId, 'b', '--state', 'skipped'), 2, '--state "skipped" must be success or failed')
    expectRefused(await run('clear', runId, '--downstream'), 2, '--downstream needs --task')
  }, 600_000)
})
