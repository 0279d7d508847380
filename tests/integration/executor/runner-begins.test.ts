/**
 * A process attempt is marked running by its runner when it begins, never by the executor that handed it over:
 * an attempt whose scheduler died while its runner was still booting must look never begun (requeued, spending
 * nothing; reap.test.ts), not begun (an infrastructure failure spending the instance's budget).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import type { ExecutorEvent } from '../../../runtime/executors/executor.ts'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { Scheduler } from '../../../runtime/scheduler/scheduler.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import * as dags from '../../fixtures/dags-runtime/behaviours.dag.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { openTestStore, type TestStore } from '../../helpers/stores.ts'

// The executor's events and the runner's begin are the same on either store: PGlite is enough.
describe('who marks a process attempt running', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore('pglite')
  })
  afterAll(() => t?.cleanup())

  it('its runner, with the external id, and not the executor at launch', async () => {
    const config = testConfig()
    await syncDags(t.store.db, [serializeDag(dags.processRetry, 'behaviours.dag.ts')], [])
    const run = await triggerRun(t.store.db, 'process_retry', {})
    const executor = new LocalExecutor({ parallelism: 2, threadWorkers: 1, store: t.store, config })
    const events: ExecutorEvent['type'][] = []
    executor.onEvent((e) => events.push(e.type))
    await new Scheduler({ config, store: t.store, executor }).run({ untilIdle: true })
    const attempts = await t.store.db
      .selectFrom('task_attempt as a')
      .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
      .select(['a.try_number', 'a.state', 'a.runner_id', 'a.executor_id'])
      .where('ti.dag_run_id', '=', run.id)
      .orderBy('a.try_number')
      .execute()
    expect(attempts.map((a) => a.state)).toEqual(['up_for_retry', 'success'])
    for (const a of attempts) {
      expect(a.runner_id).toBeTruthy()
      expect(a.executor_id).toMatch(/^local:\d+:\d+$/)
    }
    expect(events.filter((e) => e === 'finished')).toHaveLength(2)
    expect(events).not.toContain('started')
  })
})
