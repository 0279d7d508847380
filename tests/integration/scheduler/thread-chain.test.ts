import { wholeLog } from '../../../runtime/store/attempt-log.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import type { ExecutorEvent } from '../../../runtime/executors/executor.ts'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { Scheduler, type SchedulerEvent } from '../../../runtime/scheduler/scheduler.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import * as chains from '../../fixtures/dags-runtime/chains.dag.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const dags = [chains.chainValues, chains.chainTimeout, chains.chainStop].map((d) => serializeDag(d, 'chains.dag.ts'))

describe.each(STORE_KINDS)('chains of worker-thread tasks, on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, dags, [])
  })
  afterAll(() => t?.cleanup())

  /** Starts a scheduler on one run; resolves with what the executor and scheduler reported once it stops. */
  function start(dagId: string) {
    const executorEvents: ExecutorEvent[] = []
    const events: SchedulerEvent[] = []
    const executor = new LocalExecutor({ parallelism: 4, threadWorkers: 1, store: t.store, config: testConfig() })
    executor.onEvent((e) => executorEvents.push(e))
    return triggerRun(t.store.db, dagId, {}).then((run) => {
      const scheduler = new Scheduler({ config: testConfig(), store: t.store, executor, onlyRunPk: run.id, onEvent: (e) => events.push(e) })
      const done = scheduler.run()
      return { run, scheduler, done, events, executorEvents }
    })
  }

  const instances = (runPk: number) =>
    t.store.db
      .selectFrom('task_instance')
      .select(['id', 'task_id', 'state', 'try_number', 'max_tries', 'reason'])
      .where('dag_run_id', '=', runPk)
      .orderBy('task_id')
      .execute()
  const attempts = (runPk: number) =>
    t.store.db
      .selectFrom('task_attempt as a')
      .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
      .select(['ti.task_id', 'a.state', 'a.try_number', wholeLog('a').as('log')])
      .where('ti.dag_run_id', '=', runPk)
      .orderBy('ti.task_id')
      .execute()

  it('passes each result on, records every attempt once with its log, and ends the run', async () => {
    const s = await start('chain_values')
    await s.done
    const run = await t.store.db.selectFrom('dag_run').select('state').where('id', '=', s.run.id).executeTakeFirstOrThrow()
    expect(run.state).toBe('success')
    expect((await instances(s.run.id)).map((i) => [i.task_id, i.state, i.try_number])).toEqual(
      Array.from({ length: 6 }, (_, i) => [`link_${i}`, 'success', 1]),
    )
    const last = await t.store.db
      .selectFrom('xcom')
      .select('value')
      .where('dag_run_id', '=', s.run.id)
      .where('task_id', '=', 'link_5')
      .executeTakeFirstOrThrow()
    expect(last.value).toEqual({ n: 6, path: ['link_0', 'link_1', 'link_2', 'link_3', 'link_4', 'link_5'] })
    const att = await attempts(s.run.id)
    expect(att.map((a) => [a.task_id, a.state, a.try_number])).toEqual(Array.from({ length: 6 }, (_, i) => [`link_${i}`, 'success', 1]))
    for (const [i, a] of att.entries()) expect(a.log).toContain(`link ${i} ran`)
    expect(s.events.filter((e) => e.type === 'attempt:finished' && e.ok)).toHaveLength(6)
  })

  it("times out a successor handed its predecessor's slot", async () => {
    const s = await start('chain_timeout')
    await s.done
    const byTask = Object.fromEntries((await instances(s.run.id)).map((i) => [i.task_id, i]))
    expect(byTask.quick!.state).toBe('success')
    expect(byTask.slow!.state).toBe('failed')
    expect(byTask.slow!.reason).toContain('timed out after 300ms')
  })

  it('requeues a handed-off successor without spending a retry when the scheduler stops under it', async () => {
    const s = await start('chain_stop')
    // Wait until the long task runs (the quick one has finished and its successor was started).
    const deadline = Date.now() + 20_000
    while (s.executorEvents.filter((e) => e.type === 'started').length < 2) {
      if (Date.now() > deadline) throw new Error('the long task never started')
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 200))
    s.scheduler.stop()
    await s.done
    const byTask = Object.fromEntries((await instances(s.run.id)).map((i) => [i.task_id, i]))
    expect(byTask.quick!.state).toBe('success')
    expect(byTask.long).toMatchObject({ state: 'up_for_retry', try_number: 1, max_tries: 2, reason: 'scheduler shutting down' })
  })
})
