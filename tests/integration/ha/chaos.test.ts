import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../runtime/config.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

const FORGE = fileURLToPath(new URL('../../../runtime/cli/forge.mjs', import.meta.url))
const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))
const INFRA_RETRIES = 3

/** A fan-out as bench_fanout's, with no task retries: only the infrastructure budget may absorb a crash. */
const fanoutSource = `import { setTimeout as sleep } from 'node:timers/promises'
import { defineDag } from '${RUNTIME}'
const work = async () => { await sleep(300); return 1 }
export default defineDag({ id: 'chaos_fanout', maxActiveTasks: 1000, defaults: { retries: 0, retryDelay: '100ms', infraRetries: ${INFRA_RETRIES}, isolation: 'thread' } }, (dag) => {
  const root = dag.task('root', work)
  const leaves = Array.from({ length: 40 }, (_, i) => dag.task('leaf_' + i, work, { after: [root], isolation: i % 20 === 0 ? 'process' : 'thread' }))
  dag.task('join', work, { after: leaves })
})
`

/*
 * Opt-in (FORGE_CHAOS=1, with FORGE_DATABASE_URL): the restart of Postgres takes the shared server away from every
 * other test file running at the same time, and the kill-every-3-s part does not yet pass reliably (its run missed
 * the 80 s deadline in two of three full runs). Run it alone: `FORGE_CHAOS=1 npx vitest run tests/integration/ha/chaos.test.ts`.
 */
const CHAOS = process.env.FORGE_CHAOS === '1'

describe.skipIf(!ADMIN_URL || !CHAOS)('chaos: schedulers killed while they run a fan-out, and a restart of Postgres', () => {
  let store: Store
  let drop: () => Promise<void>
  let url: string
  const children = new Set<ChildProcess>()
  const dir = mkdtempSync(join(tmpdir(), 'forge-chaos-'))

  beforeAll(async () => {
    ;({ url, drop } = await createTestDatabase())
    store = await openPostgres(url)
    await migrate(store.db)
    writeFileSync(join(dir, 'chaos.dag.ts'), fanoutSource)
    const { errors } = await refreshDags(store.db, loadConfig({ FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: dir }))
    expect(errors).toEqual([])
  })
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL')
    await store?.close()
    await drop?.()
  })

  const startScheduler = () => {
    const child = spawn(process.execPath, [FORGE, 'scheduler'], {
      env: {
        ...process.env,
        FORGE_DATABASE_URL: url,
        FORGE_DAGS_FOLDER: dir,
        FORGE_PARALLELISM: '8',
        FORGE_HEARTBEAT_INTERVAL: '500ms',
        FORGE_HEARTBEAT_TIMEOUT: '5s',
        FORGE_POLL_INTERVAL: '200ms',
        FORGE_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    children.add(child)
    child.once('exit', () => children.delete(child))
    return child
  }

  const runState = async (runPk: number) =>
    (await store.db.selectFrom('dag_run').select('state').where('id', '=', runPk).executeTakeFirstOrThrow()).state

  /** Every instance succeeded, no two attempts of one instance overlap, and none took more attempts than its budget allows. */
  async function expectCleanRun(runPk: number) {
    expect(await runState(runPk)).toBe('success')
    const tis = await store.db.selectFrom('task_instance').select(['id', 'task_id', 'state']).where('dag_run_id', '=', runPk).execute()
    expect(tis.filter((t) => t.state !== 'success')).toEqual([])
    const attempts = await store.db
      .selectFrom('task_attempt as a')
      .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
      .select(['ti.task_id', 'a.try_number', 'a.start_date', 'a.end_date', 'a.state'])
      .where('ti.dag_run_id', '=', runPk)
      .orderBy('ti.task_id')
      .orderBy('a.try_number')
      .execute()
    const byTask = new Map<string, typeof attempts>()
    for (const a of attempts) byTask.set(a.task_id, [...(byTask.get(a.task_id) ?? []), a])
    for (const [task, list] of byTask) {
      expect(list.length, `${task} took ${list.length} attempts`).toBeLessThanOrEqual(1 + INFRA_RETRIES)
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1]!
        expect(prev.end_date, `${task} try ${prev.try_number} never ended`).not.toBeNull()
        expect(prev.end_date!.getTime(), `${task} try ${prev.try_number} overlaps try ${list[i]!.try_number}`).toBeLessThanOrEqual(
          list[i]!.start_date.getTime(),
        )
      }
    }
  }

  it('ends in success with three schedulers, one SIGKILLed every 3 s and restarted', async () => {
    const run = await triggerRun(store.db, 'chaos_fanout', {})
    const schedulers = [startScheduler(), startScheduler(), startScheduler()]
    const deadline = Date.now() + 80_000
    // The kills start once the schedulers work (starting one takes a second or more), then come every 3 s.
    while (
      (await store.db.selectFrom('task_instance').select('id').where('dag_run_id', '=', run.id).where('state', 'is not', null).execute()).length === 0
    ) {
      if (Date.now() > deadline) throw new Error('no scheduler ever claimed a task')
      await new Promise((r) => setTimeout(r, 50))
    }
    let next = 0
    while (!['success', 'failed'].includes(await runState(run.id))) {
      if (Date.now() > deadline) throw new Error('the run did not finish within 80 s')
      await new Promise((r) => setTimeout(r, 3000))
      schedulers[next]!.kill('SIGKILL')
      schedulers[next] = startScheduler()
      next = (next + 1) % schedulers.length
    }
    for (const s of schedulers) s.kill('SIGTERM')
    await expectCleanRun(run.id)
  }, 120_000)

  it('survives a restart of Postgres in mid-run', async () => {
    const run = await triggerRun(store.db, 'chaos_fanout', {})
    const schedulers = [startScheduler(), startScheduler()]
    const deadline = Date.now() + 80_000
    while (
      (await store.db.selectFrom('task_instance').select('id').where('dag_run_id', '=', run.id).where('state', '=', 'success').execute()).length < 3
    ) {
      if (Date.now() > deadline) throw new Error('the run never got going')
      await new Promise((r) => setTimeout(r, 100))
    }
    try {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'restart'], { stdio: 'ignore', timeout: 60_000 })
    } finally {
      // Whatever happened, leave Postgres running: others share it ("already running" fails, harmlessly).
      try {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'start'], { stdio: 'ignore', timeout: 60_000 })
      } catch {
        // running already
      }
    }
    for (;;) {
      try {
        if (['success', 'failed'].includes(await runState(run.id))) break
      } catch {
        // the test's own connections come back with the server
      }
      if (Date.now() > deadline) throw new Error('the run did not finish within 80 s of its start')
      await new Promise((r) => setTimeout(r, 200))
    }
    for (const s of schedulers) s.kill('SIGTERM')
    await expectCleanRun(run.id)
  }, 120_000)
})
