import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { attemptsWithLiveRunner } from '../../../runtime/store/attempt-lock.ts'
import { readLogChunks } from '../../../runtime/store/attempt-log.ts'
import { runnerBasics, runnerEnv as envDag, runnerFails, runnerSlow, runnerTimeout } from '../../fixtures/dags-runner/runner.dag.ts'
import { FORGE, forge, spawnForge, waitFor } from '../../helpers/forge-cli.ts'
import { ADMIN_URL, openTestStore, type TestStore } from '../../helpers/stores.ts'
import { attemptRows, claimAttempts, runnerEnv } from './helpers.ts'

const DAGS = [runnerBasics, envDag, runnerSlow, runnerFails, runnerTimeout]

// `forge task run --attempt ID` as a real process against Postgres, on attempts claimed by the scheduler's claim.
describe.skipIf(!ADMIN_URL)('forge task run on Postgres', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore('postgres')
  })
  afterAll(() => t?.cleanup())

  it('records success, XCom, outlets and log chunks, and hands its slot to the successor; a second run refuses and changes nothing', async () => {
    const db = t.store.db
    const { run, claimed, attempt } = await claimAttempts(db, DAGS, 'runner_basics')
    const hello = claimed.find((c) => c.task_id === 'hello')!
    const r = await forge(runnerEnv(t.url), 'task', 'run', '--attempt', String(attempt('hello')))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('hello from the task')
    const rows = await attemptRows(db, hello.id)
    expect(rows.ti).toMatchObject({ state: 'success', try_number: 1 })
    expect(rows.xcom[0]!.value).toEqual({ n: 1, key: `runner_basics/${run.run_id}/hello/-1`, previous: null })
    expect(rows.attempts[0]).toMatchObject({
      state: 'success',
      failure_class: null,
      outlets: [{ uri: 's3://bucket/frames/run', extra: { frames: 3 } }],
    })
    expect(rows.attempts[0]!.runner_id).toMatch(/:\d+$/)
    const chunks = await readLogChunks(db, attempt('hello'))
    expect(chunks.length).toBeGreaterThan(0)
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i + 1))
    expect(chunks.map((c) => c.text).join('')).toMatch(/hello from the task\n.*a line through ctx\.log\n/s)
    const events = await db
      .selectFrom('dataset_event as e')
      .innerJoin('dataset as d', 'd.id', 'e.dataset_id')
      .select(['d.uri', 'e.source_dag_id', 'e.source_run_id', 'e.source_task_id', 'e.extra'])
      .execute()
    expect(events).toEqual([
      { uri: 's3://bucket/frames/run', source_dag_id: 'runner_basics', source_run_id: run.run_id, source_task_id: 'hello', extra: { frames: 3 } },
    ])
    // The successor took over hello's slot in the same statement, claimed for the scheduler that claimed hello.
    const next = await db
      .selectFrom('task_instance')
      .selectAll()
      .where('dag_run_id', '=', run.id)
      .where('task_id', '=', 'after_hello')
      .executeTakeFirstOrThrow()
    expect(next).toMatchObject({ state: 'queued', try_number: 1, claimed_by: 'sched-1' })

    const again = await forge(runnerEnv(t.url), 'task', 'run', '--attempt', String(attempt('hello')))
    expect(again.code).toBe(2)
    expect(again.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^forge: attempt \d+ \(runner_basics\/.*\/hello, try 1\) has already finished: success$/),
    ])
    expect(await attemptRows(db, hello.id)).toEqual(rows)
  })

  it('refuses an unknown attempt id with one line', async () => {
    const r = await forge(runnerEnv(t.url), 'task', 'run', '--attempt', '999999')
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 2, stderr: expect.stringMatching(/^forge: no attempt 999999: /) })
  })

  it('records a task failure with class task, spending a try', async () => {
    const { claimed, attempt } = await claimAttempts(t.store.db, DAGS, 'runner_fails')
    const r = await forge(runnerEnv(t.url), 'task', 'run', '--attempt', String(attempt('boom')))
    expect(r.code).toBe(0)
    const rows = await attemptRows(t.store.db, claimed[0]!.id)
    expect(rows.ti).toMatchObject({
      state: 'up_for_retry',
      max_tries: 2,
      infra_failures: 0,
      reason: 'Error: boom on purpose (attempt 1 of 2; retrying)',
    })
    expect(rows.attempts[0]).toMatchObject({ state: 'up_for_retry', failure_class: 'task' })
    expect(rows.attempts[0]!.whole_log).toContain('[forge] attempt failed: Error: boom on purpose')
  })

  it('refuses a DAG file outside its DAGs folder, failing the attempt without a retry', async () => {
    const db = t.store.db
    const { claimed, attempt, run } = await claimAttempts(db, DAGS, 'runner_fails')
    await sql`update dag_version set serialized = jsonb_set(serialized, '{fileloc}', '"../../../../tmp/evil.dag.ts"') where id = ${run.dag_version_id}`.execute(
      db,
    )
    const r = await forge(runnerEnv(t.url), 'task', 'run', '--attempt', String(attempt('boom')))
    expect(r.code).toBe(0)
    const rows = await attemptRows(db, claimed[0]!.id)
    expect(rows.ti).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/^path "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/evil\.dag\.ts" is not inside the folder /),
    })
  })

  it('keeps the database URL and other Forge settings out of task code and shell commands', async () => {
    const { claimed, attempt } = await claimAttempts(t.store.db, DAGS, 'runner_env')
    const env = runnerEnv(t.url, { PGPASSWORD: 'secret', MY_EXTRA: 'yes', MY_OTHER: 'no', CARLA_HOST: 'sim', FORGE_TASK_ENV_ALLOW: 'MY_EXTRA' })
    for (const task of ['print_env', 'shell_env']) {
      const r = await forge(env, 'task', 'run', '--attempt', String(attempt(task)))
      expect(r.code).toBe(0)
      const ti = claimed.find((c) => c.task_id === task)!
      const rows = await attemptRows(t.store.db, ti.id)
      expect(rows.ti.state).toBe('success')
      const seen = new Set(task === 'print_env' ? (rows.xcom[0]!.value as string[]) : String(rows.xcom[0]!.value).split(',').filter(Boolean))
      expect(seen.has('PATH')).toBe(true)
      expect(seen.has('CARLA_HOST')).toBe(true)
      expect(seen.has('MY_EXTRA')).toBe(true)
      expect(
        [...seen].filter(
          (n) => n === 'FORGE_DATABASE_URL' || n.startsWith('PG') || n === 'MY_OTHER' || n === 'FORGE_DAGS_FOLDER' || n === 'FORGE_HOME',
        ),
      ).toEqual([])
      expect(rows.attempts[0]!.whole_log).not.toContain(t.url!)
    }
  })

  it('streams log chunks while the attempt runs, and `forge logs --follow` prints them until it finishes', async () => {
    const db = t.store.db
    const { run, attempt } = await claimAttempts(db, DAGS, 'runner_slow')
    const id = attempt('ticker')
    const release = join(mkdtempSync(join(tmpdir(), 'forge-release-')), 'go')
    const runner = spawnForge(runnerEnv(t.url, { FORGE_TASK_RELEASE: release }), 'task', 'run', '--attempt', String(id))
    await waitFor('the first log chunk', async () => (await readLogChunks(db, id)).length > 0, 30_000)
    const state = await db.selectFrom('task_attempt').select('state').where('id', '=', id).executeTakeFirstOrThrow()
    expect(state.state).toBe('running')
    const follow = spawn(process.execPath, [FORGE, 'logs', run.run_id, 'ticker', '--follow'], {
      env: runnerEnv(t.url),
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    follow.stdout.on('data', (b: Buffer) => void (out += b.toString()))
    const followed = new Promise<number | null>((r) => follow.once('exit', r))
    // The follower prints output of a running attempt; only then is the task let go.
    await waitFor('the follower to print a tick', () => /^tick \d+$/m.test(out), 60_000)
    writeFileSync(release, '')
    expect(await runner.exited).toBe(0)
    expect(await followed).toBe(0)
    const lines = out.split('\n')
    expect(lines[0]).toMatch(/^--- ticker try 1: running /)
    const ticks = lines.filter((l) => /^tick \d+$/.test(l))
    expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => `tick ${i}`))
    expect(lines.at(-2)).toBe('--- ticker try 1: success')
    const details = await db.selectFrom('task_attempt').select('heartbeat_details').where('id', '=', id).executeTakeFirstOrThrow()
    expect(details.heartbeat_details).toEqual({ done: Math.floor((ticks.length - 1) / 5) * 5 })
  })

  it('times out a task that ignores its signal, records it as a task failure and exits though the task left a timer', async () => {
    const { claimed, attempt } = await claimAttempts(t.store.db, DAGS, 'runner_timeout')
    const r = await forge(runnerEnv(t.url), 'task', 'run', '--attempt', String(attempt('sleepy')))
    expect(r.code).toBe(0)
    const rows = await attemptRows(t.store.db, claimed[0]!.id)
    expect(rows.ti).toMatchObject({ state: 'failed', reason: 'timed out after 500ms' })
    expect(rows.attempts[0]).toMatchObject({ state: 'failed', failure_class: 'task' })
  })

  it('stopped by SIGTERM, aborts the task and records an infrastructure failure, which spends no retry', async () => {
    const db = t.store.db
    const { claimed, attempt } = await claimAttempts(db, DAGS, 'runner_slow')
    const id = attempt('ticker')
    const runner = spawnForge(runnerEnv(t.url, { FORGE_TASK_TICKS: '600' }), 'task', 'run', '--attempt', String(id))
    await waitFor('the first log chunk', async () => (await readLogChunks(db, id)).length > 0, 30_000)
    runner.child.kill('SIGTERM')
    expect(await runner.exited).toBe(0)
    const rows = await attemptRows(db, claimed[0]!.id)
    expect(rows.ti).toMatchObject({
      state: 'up_for_retry',
      max_tries: 2,
      infra_failures: 1,
      reason: 'infrastructure: runner stopped by SIGTERM (preempted, evicted or shut down); retrying, infrastructure retry 1 of 3',
    })
    expect(rows.attempts[0]).toMatchObject({ state: 'up_for_retry', failure_class: 'infrastructure' })
  })

  it('holds the attempt lock while it runs; a runner killed with SIGKILL leaves it released', async () => {
    const db = t.store.db
    const { attempt } = await claimAttempts(db, DAGS, 'runner_slow')
    const id = attempt('ticker')
    const runner = spawnForge(runnerEnv(t.url, { FORGE_TASK_TICKS: '600' }), 'task', 'run', '--attempt', String(id))
    await waitFor('the runner to hold its lock', async () => (await attemptsWithLiveRunner(db, [id])).has(id), 30_000)
    // A second runner of the same attempt cannot take it while the first holds it.
    const second = await forge(runnerEnv(t.url), 'task', 'run', '--attempt', String(id))
    expect(second.code).toBe(2)
    expect(second.stderr).toMatch(/is taken by another runner or no longer current/)
    runner.child.kill('SIGKILL')
    await runner.exited
    await waitFor('the lock to be released', async () => !(await attemptsWithLiveRunner(db, [id])).has(id), 10_000)
    const locks = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${id}`.execute(db)
    expect(locks.rows[0]!.n).toBe(0)
  })
})
