import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { Scheduler } from '../../../runtime/scheduler/scheduler.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import * as dags from '../../fixtures/dags-runtime/stubborn.dag.ts'
import { runDagOnce, testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'
import { failRunIn } from '../../../runtime/store/run-fail.ts'

const FILE = 'stubborn.dag.ts'

/** Runs `def` once and says how long the run took and what the task left in its folder. */
async function timedRun(t: TestStore, def: Parameters<typeof runDagOnce>[1]) {
  const dir = mkdtempSync(join(tmpdir(), 'forge-stubborn-'))
  const t0 = Date.now()
  const r = await runDagOnce(t.store, def, FILE, { dir })
  const elapsed = Date.now() - t0
  return { ...r, dir, elapsed, marker: join(dir, 'marker') }
}

describe.each(STORE_KINDS)('thread tasks that ignore cancellation are still stopped, on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())

  it('terminates a thread that ignores its timeout, replaces it, and keeps the other thread running', async () => {
    const r = await timedRun(t, dags.threadSpins)
    expect(r.ti('spin')).toMatchObject({ state: 'failed', reason: 'timed out after 1.00s' })
    // Started with the spinning task, on the other thread; on Postgres its successor is a chain edge.
    expect(r.ti('steady').state).toBe('success')
    expect(r.ti('after_steady').state).toBe('success')
    expect(await r.xcom('after_steady')).toBe(2)
    // Started after the spinning thread was terminated: one of them runs on its replacement.
    expect(r.ti('late_1').state).toBe('success')
    expect(r.ti('late_2').state).toBe('success')
    // 1 s timeout + 5 s grace; the loop itself would spin for 45 s.
    expect(r.elapsed).toBeLessThan(30_000)
    expect(existsSync(r.marker)).toBe(false)
  })

  it('stops a scheduler within a bound under a thread that never yields, and requeues the task', async () => {
    await syncDags(t.store.db, [serializeDag(dags.threadSpinsForever, FILE)], [])
    const dir = mkdtempSync(join(tmpdir(), 'forge-stubborn-'))
    const run = await triggerRun(t.store.db, 'thread_spins_forever', { dir })
    const scheduler = new Scheduler({
      config: testConfig(),
      store: t.store,
      executor: new LocalExecutor({ parallelism: 4, threadWorkers: 2, store: t.store, config: testConfig() }),
      onlyRunPk: run.id,
    })
    const done = scheduler.run()
    const deadline = Date.now() + 20_000
    while (!existsSync(join(dir, 'pid'))) {
      if (Date.now() > deadline) throw new Error('the spinning task never started')
      await sleep(50)
    }
    const t0 = Date.now()
    scheduler.stop()
    await done
    // Draining the threads (2 s) + the cancel grace (5 s); the loop would spin for 45 s.
    expect(Date.now() - t0).toBeLessThan(30_000)
    const ti = await t.store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run.id).executeTakeFirstOrThrow()
    expect(ti).toMatchObject({ state: 'up_for_retry', try_number: 1, max_tries: 2, reason: 'scheduler shutting down' })
    expect(existsSync(join(dir, 'marker'))).toBe(false)
    // The requeued task spins for 45 s: the next test's scheduler must not pick it up.
    await failRunIn(t.store.db, run.id, 'stopped by the test')
  })

  it('ends the attempts of a thread that exits by itself, and the run', async () => {
    const r = await timedRun(t, dags.threadExits)
    expect(r.ti('quits')).toMatchObject({ state: 'failed', reason: 'worker thread exited with code 3' })
    expect(r.ti('steady').state).toBe('success')
  }, 120_000)
})
