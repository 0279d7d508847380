/**
 * An executor that knows only that a runner recorded its attempt (a Kubernetes Job that succeeded) leaves the
 * scheduler to read how it ended: a failed try must be reported as failed, with its reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttemptSpec } from '../../../runtime/executors/executor.ts'
import type { SchedulerEvent } from '../../../runtime/scheduler/events.ts'
import { reportRecorded } from '../../../runtime/scheduler/report-recorded.ts'
import { newState } from '../../../runtime/scheduler/state.ts'
import * as dags from '../../fixtures/dags-runtime/behaviours.dag.ts'
import { runDagOnce, testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

describe.each(STORE_KINDS)('reporting attempts their runners recorded, on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())

  it('reads each try’s end from the store: the failed one failed with its reason, the other a success', async () => {
    const r = await runDagOnce(t.store, dags.retryThenSucceed, 'behaviours.dag.ts')
    const tiId = r.ti('flaky').id
    const events: SchedulerEvent[] = []
    const s = newState({
      id: 'reporter',
      config: testConfig(),
      store: t.store,
      executors: new Map(),
      defaultExecutor: 'local',
      emit: (e) => events.push(e),
    })
    const spec = (tryNumber: number) => ({ tiId, tryNumber, taskId: 'flaky' }) as unknown as AttemptSpec
    s.recordedEnds.push({ spec: spec(1), durationMs: 5 }, { spec: spec(2), durationMs: 7 }, { spec: spec(9), durationMs: 1 })
    await reportRecorded(s)
    const ends = events.flatMap((e) => (e.type === 'attempt:finished' ? [[e.spec.tryNumber, e.ok, e.reason]] : []))
    expect(ends).toEqual([
      [1, false, expect.stringContaining('first attempt fails on purpose')],
      [2, true, null],
      [9, false, 'its runner recorded no attempt'],
    ])
    expect(s.recordedEnds).toEqual([])
  })
})
