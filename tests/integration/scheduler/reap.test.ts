import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import { heartbeat } from '../../../runtime/store/attempt-heartbeat.ts'
import { recordEvents } from '../../../runtime/store/attempt-record.ts'
import { wholeLog } from '../../../runtime/store/attempt-log.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { reapLostAttempts } from '../../../runtime/store/reap-lost.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { serializeDag as serialize } from '../../../runtime/dag/serialize.ts'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { Scheduler } from '../../../runtime/scheduler/scheduler.ts'
import { silentAttempt } from '../../fixtures/dags-runtime/guards.dag.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const dag = serializeDag(
  defineDag({ id: 'reaped', defaults: { retries: 1, retryDelay: 0 } }, (d) => void d.task('work', () => 1)),
  'reaped.dag.ts',
)

describe.each(STORE_KINDS)('heartbeats and the reaper on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, [dag, serialize(silentAttempt, 'guards.dag.ts')], [])
  })
  afterAll(() => t?.cleanup())

  async function claimOne(schedulerId: string) {
    const run = await triggerRun(t.store.db, 'reaped', {})
    await startQueuedRuns(t.store.db)
    await decideTasks(t.store.db, new Set([run.id]), new Date())
    const [ti] = await claimTasks(t.store.db, schedulerId, 1, run.id)
    return ti!
  }
  const age = (id: number) =>
    t.store.db
      .updateTable('task_instance')
      .set({ last_heartbeat_at: sql`now() - interval '1 minute'` })
      .where('id', '=', id)
      .execute()
  const task = dag.tasks[0]!
  const row = (id: number) => t.store.db.selectFrom('task_instance').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  it('leaves attempts with a fresh heartbeat alone', async () => {
    const ti = await claimOne('alive')
    await heartbeat(t.store.db, 'alive', [ti.id], new Map([[`${ti.id}:1`, 'line one\n']]))
    expect((await reapLostAttempts(t.store.db, 10_000)).size).toBe(0)
    const log = await t.store.db
      .selectFrom('task_attempt')
      .select(wholeLog('task_attempt').as('log'))
      .where('task_instance_id', '=', ti.id)
      .executeTakeFirstOrThrow()
    expect(log.log).toBe('line one\n')
  })

  it('retries an attempt whose heartbeat stopped, recording why, and drops its late result', async () => {
    const ti = await claimOne('dead-scheduler')
    await age(ti.id)
    const runs = await reapLostAttempts(t.store.db, 10_000)
    expect([...runs]).toEqual([ti.dag_run_id])
    const after = await t.store.db.selectFrom('task_instance').selectAll().where('id', '=', ti.id).executeTakeFirstOrThrow()
    expect(after.state).toBe('up_for_retry')
    expect(after.reason).toMatch(/^heartbeat lost: scheduler dead-scheduler stopped reporting for over 10s .*retrying \(attempt 1 of 2\)$/)
    const attempt = await t.store.db.selectFrom('task_attempt').selectAll().where('task_instance_id', '=', ti.id).executeTakeFirstOrThrow()
    expect(attempt.state).toBe('failed')

    // The "dead" scheduler was only slow: its result arrives after the reaper gave up on it.
    const changed = await recordEvents(
      t.store.db,
      'dead-scheduler',
      [],
      [
        {
          tiId: ti.id,
          tryNumber: 1,
          maxTries: 2,
          runPk: ti.dag_run_id,
          taskId: 'work',
          mapIndex: -1,
          task,
          ok: true,
          result: 42,
          nonRetryable: false,
          reason: null,
          log: '',
        },
      ],
      1 << 20,
    )
    expect(changed.size).toBe(0)
    expect((await t.store.db.selectFrom('task_instance').select('state').where('id', '=', ti.id).executeTakeFirstOrThrow()).state).toBe(
      'up_for_retry',
    )
    expect(await t.store.db.selectFrom('xcom').selectAll().where('task_instance_id', '=', ti.id).execute()).toEqual([])
  })

  it('heartbeats only the attempts it runs, so one claimed but never started is reaped', async () => {
    const started = await claimOne('half-started')
    const neverStarted = await claimOne('half-started')
    await age(started.id)
    await age(neverStarted.id)
    await heartbeat(t.store.db, 'half-started', [started.id], new Map())
    const runs = await reapLostAttempts(t.store.db, 10_000)
    expect([...runs]).toEqual([neverStarted.dag_run_id])
    const states = await t.store.db
      .selectFrom('task_instance')
      .select(['id', 'state'])
      .where('id', 'in', [started.id, neverStarted.id])
      .orderBy('id')
      .execute()
    expect(states.map((s) => s.state)).toEqual(['queued', 'up_for_retry'])
  })

  it('fails the instance for good when the lost attempt was its last try', async () => {
    const ti = await claimOne('dead-2')
    await t.store.db.updateTable('task_instance').set({ max_tries: 1 }).where('id', '=', ti.id).execute()
    await age(ti.id)
    await reapLostAttempts(t.store.db, 10_000)
    const after = await t.store.db.selectFrom('task_instance').select(['state', 'reason']).where('id', '=', ti.id).executeTakeFirstOrThrow()
    expect(after.state).toBe('failed')
    expect(after.reason).toMatch(/^heartbeat lost/)
  })

  it('measures heartbeat age on the database clock: a scheduler 20 s ahead does not reap a fresh heartbeat', async () => {
    const ti = await claimOne('alive-but-ahead')
    await heartbeat(t.store.db, 'alive-but-ahead', [ti.id], new Map())
    const runs = await reapLostAttempts(t.store.db, 10_000, new Date(Date.now() + 20_000))
    expect(runs.has(ti.dag_run_id)).toBe(false)
    expect((await row(ti.id)).state).toBe('queued')
  })

  it('ignores a heartbeat from a scheduler that no longer holds the attempt', async () => {
    const taken = await claimOne('new-holder')
    await age(taken.id)
    const aged = (await row(taken.id)).last_heartbeat_at
    await heartbeat(t.store.db, 'former-holder', [taken.id], new Map())
    expect((await row(taken.id)).last_heartbeat_at).toEqual(aged)
    // Given up on by the reaper: the scheduler that held it heartbeats it in vain.
    const lost = await claimOne('slow-holder')
    await age(lost.id)
    await reapLostAttempts(t.store.db, 10_000)
    const reaped = await row(lost.id)
    expect(reaped.state).toBe('up_for_retry')
    await heartbeat(t.store.db, 'slow-holder', [lost.id], new Map())
    expect(await row(lost.id)).toEqual(reaped)
  })

  it("appends a late attempt's log to its own attempt row, never to its retry's", async () => {
    const ti = await claimOne('slow-logger')
    await age(ti.id)
    await reapLostAttempts(t.store.db, 10_000)
    await decideTasks(t.store.db, new Set([ti.dag_run_id]), new Date())
    const [again] = await claimTasks(t.store.db, 'slow-logger', 1, ti.dag_run_id)
    expect(again).toMatchObject({ id: ti.id, try_number: 2 })
    await heartbeat(
      t.store.db,
      'slow-logger',
      [ti.id],
      new Map([
        [`${ti.id}:1`, 'late line\n'],
        [`${ti.id}:2`, 'new line\n'],
      ]),
    )
    const logs = await t.store.db
      .selectFrom('task_attempt')
      .select(['try_number', wholeLog('task_attempt').as('log')])
      .where('task_instance_id', '=', ti.id)
      .orderBy('try_number')
      .execute()
    expect(logs).toEqual([
      { try_number: 1, log: 'late line\n' },
      { try_number: 2, log: 'new line\n' },
    ])
  })

  it('the scheduler loop requeues an attempt whose scheduler died before it began, spending no try', async () => {
    const run = await triggerRun(t.store.db, 'silent_attempt', {})
    await startQueuedRuns(t.store.db)
    await decideTasks(t.store.db, new Set([run.id]), new Date())
    // Claimed by a scheduler that died at once: it holds no liveness lock, never heartbeats or records anything.
    const [ghost] = await claimTasks(t.store.db, 'ghost-scheduler', 1, run.id)
    const scheduler = new Scheduler({
      config: testConfig(),
      store: t.store,
      executor: new LocalExecutor({ parallelism: 2, threadWorkers: 1, store: t.store, config: testConfig() }),
      onlyRunPk: run.id,
    })
    const giveUp = setTimeout(() => scheduler.stop(), 15_000)
    await scheduler.run()
    clearTimeout(giveUp)
    expect((await t.store.db.selectFrom('dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()).state).toBe('success')
    // Try 2 ran, and the requeue gave try 1 back: the task still has all of its own tries.
    expect(await row(ghost!.id)).toMatchObject({ state: 'success', try_number: 2, max_tries: ghost!.max_tries + 1, infra_failures: 0 })
    const attempts = await t.store.db
      .selectFrom('task_attempt')
      .select(['state', 'reason', 'scheduler_id'])
      .where('task_instance_id', '=', ghost!.id)
      .orderBy('try_number')
      .execute()
    expect(attempts[0]).toMatchObject({ scheduler_id: 'ghost-scheduler', reason: 'scheduler ghost-scheduler died before the attempt began' })
    expect(attempts[1]).toMatchObject({ state: 'success', scheduler_id: scheduler.id })
  }, 30_000)
})
