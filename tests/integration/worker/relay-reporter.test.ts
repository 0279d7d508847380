import { fork } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readLogChunks } from '../../../runtime/store/attempt-log.ts'
import type { Db } from '../../../runtime/store/database.ts'
import { serveAttemptReports } from '../../../runtime/worker/serve-attempt-reports.ts'
import { runnerBasics, runnerSlow } from '../../fixtures/dags-runner/runner.dag.ts'
import { FORGE, waitFor } from '../../helpers/forge-cli.ts'
import { openTestStore, type TestStore } from '../../helpers/stores.ts'
import { attemptRows, claimAttempts, runnerEnv } from './helpers.ts'

/** `forge task run` as a child of this process, reporting through it to the PGlite store this process owns. */
function relayRunner(db: Db, attemptId: number, extra: Record<string, string> = {}) {
  const child = fork(FORGE, ['task', 'run', '--attempt', String(attemptId)], {
    env: runnerEnv(null, extra),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (b: Buffer) => void (stdout += b.toString()))
  child.stderr!.on('data', (b: Buffer) => void (stderr += b.toString()))
  serveAttemptReports(db, child, { xcomMaxBytes: 1 << 20 })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, exited, out: () => ({ stdout, stderr }) }
}

describe('the relay reporter on PGlite', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore('pglite')
  })
  afterAll(() => t?.cleanup())

  it('runs an attempt whose store another process owns, recording success, XCom and log chunks through it', async () => {
    const db = t.store.db
    const { claimed, attempt } = await claimAttempts(db, [runnerBasics, runnerSlow], 'runner_basics')
    const hello = claimed.find((c) => c.task_id === 'hello')!
    const r = relayRunner(db, attempt('hello'))
    expect(await r.exited).toBe(0)
    expect(r.out().stderr).toBe('')
    const rows = await attemptRows(db, hello.id)
    expect(rows.ti.state).toBe('success')
    expect(rows.xcom[0]!.value).toMatchObject({ n: 1 })
    expect((await readLogChunks(db, attempt('hello'))).map((c) => c.text).join('')).toContain('hello from the task\n')
    // A second run of the finished attempt is refused and changes nothing.
    const again = relayRunner(db, attempt('hello'))
    expect(await again.exited).toBe(2)
    expect(again.out().stderr).toMatch(/^forge: attempt \d+ .* has already finished: success\n$/)
    expect(await attemptRows(db, hello.id)).toEqual(rows)
  })

  it('refuses a second runner of an attempt another runner of this process holds', async () => {
    const db = t.store.db
    const { attempt } = await claimAttempts(db, [runnerBasics, runnerSlow], 'runner_slow')
    const id = attempt('ticker')
    const release = join(mkdtempSync(join(tmpdir(), 'forge-release-')), 'go')
    const first = relayRunner(db, id, { FORGE_TASK_RELEASE: release })
    await waitFor('the first runner to log', async () => (await readLogChunks(db, id)).length > 0, 60_000)
    const second = relayRunner(db, id)
    expect(await second.exited).toBe(2)
    expect(second.out().stderr).toMatch(/is taken by another runner or no longer current/)
    writeFileSync(release, '')
    expect(await first.exited).toBe(0)
    const row = await db.selectFrom('task_attempt').select(['state', 'heartbeat_details']).where('id', '=', id).executeTakeFirstOrThrow()
    expect(row).toMatchObject({ state: 'success', heartbeat_details: { done: expect.any(Number) } })
  })
})
