import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
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

const FILE = 'stubborn.dag.ts'

/**
 * Living (not zombie) processes with this pid or, for a negative id, in this process group. Read from /proc:
 * kill(pid, 0) also succeeds for a zombie, and an orphan's zombie may wait a while for init to reap it.
 */
function living(id: number): number[] {
  // 0 would mean this test's own process group.
  if (!Number.isInteger(id) || id === 0) throw new Error(`not a pid: ${id}`)
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its closing parenthesis.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (state === 'Z') continue
    if (id > 0 ? Number(entry) === id : Number(pgrp) === -id) found.push(Number(entry))
  }
  return found
}

/** Runs `def` once and says how long the run took and what the task left in its folder. */
async function timedRun(t: TestStore, def: Parameters<typeof runDagOnce>[1]) {
  const dir = mkdtempSync(join(tmpdir(), 'forge-stubborn-'))
  const t0 = Date.now()
  const r = await runDagOnce(t.store, def, FILE, { dir })
  const elapsed = Date.now() - t0
  const pid = existsSync(join(dir, 'pid')) ? Number(readFileSync(join(dir, 'pid'), 'utf8').trim()) : null
  return { ...r, dir, elapsed, pid, marker: join(dir, 'marker'), t0 }
}

describe.each(STORE_KINDS)('tasks that ignore cancellation are still stopped, on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())

  // The process tests do not depend on the store: run them once.
  it.runIf(kind === STORE_KINDS[0])('kills a process task that ignores its timeout after the grace period', async () => {
    const r = await timedRun(t, dags.processIgnoresTimeout)
    expect(r.ti('stubborn')).toMatchObject({ state: 'failed', reason: 'timed out after 2.00s' })
    expect(r.pid).toBeGreaterThan(0)
    // 2 s timeout + 5 s grace; the task itself would run for 20 s.
    expect(r.elapsed).toBeLessThan(14_000)
    expect(living(r.pid!)).toEqual([])
    expect(existsSync(r.marker)).toBe(false)
  })

  it.runIf(kind === STORE_KINDS[0])("kills a timed-out shell task's whole process group, not only its shell", async () => {
    const r = await timedRun(t, dags.shellTimeout)
    expect(r.ti('stubborn')).toMatchObject({ state: 'failed', reason: 'timed out after 4.00s' })
    expect(r.pid).toBeGreaterThan(0)
    // The shell leads its own process group: nothing of it may be left, subshell and sleep included.
    expect(living(-r.pid!)).toEqual([])
    // The subshell would touch the marker 6 s after the shell started (at least 2 s after the timeout).
    await sleep(Math.max(0, r.t0 + 8_500 - Date.now()))
    expect(existsSync(r.marker)).toBe(false)
  })

  it.runIf(kind === STORE_KINDS[0])('kills a shell task that ignores SIGTERM with SIGKILL', async () => {
    const r = await timedRun(t, dags.shellIgnoresTerm)
    expect(r.ti('stubborn')).toMatchObject({ state: 'failed', reason: 'timed out after 4.00s' })
    expect(r.pid).toBeGreaterThan(0)
    expect(living(-r.pid!)).toEqual([])
    // SIGKILL comes 2 s after SIGTERM; the subshell would touch the marker 9 s after the shell started.
    await sleep(Math.max(0, r.t0 + 11_500 - Date.now()))
    expect(existsSync(r.marker)).toBe(false)
  })

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
    // 1 s timeout + 5 s grace; the loop itself would spin for 30 s.
    expect(r.elapsed).toBeLessThan(20_000)
    expect(existsSync(r.marker)).toBe(false)
  })

  it('stops a scheduler within a bound under a thread that never yields, and requeues the task', async () => {
    await syncDags(t.store.db, [serializeDag(dags.threadSpinsForever, FILE)], [])
    const dir = mkdtempSync(join(tmpdir(), 'forge-stubborn-'))
    const run = await triggerRun(t.store.db, 'thread_spins_forever', { dir })
    const scheduler = new Scheduler({ config: testConfig(), store: t.store, executor: new LocalExecutor({ parallelism: 4, threadWorkers: 2 }), onlyRunPk: run.id })
    const done = scheduler.run()
    const deadline = Date.now() + 20_000
    while (!existsSync(join(dir, 'pid'))) {
      if (Date.now() > deadline) throw new Error('the spinning task never started')
      await sleep(50)
    }
    const t0 = Date.now()
    scheduler.stop()
    await done
    // Draining the threads (2 s) + the cancel grace (5 s); the loop would spin for 30 s.
    expect(Date.now() - t0).toBeLessThan(18_000)
    const ti = await t.store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run.id).executeTakeFirstOrThrow()
    expect(ti).toMatchObject({ state: 'up_for_retry', try_number: 1, max_tries: 2, reason: 'scheduler shutting down' })
    expect(existsSync(join(dir, 'marker'))).toBe(false)
  })
})
