import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import { recordEventsIn } from '../../../runtime/store/attempt-record.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import type { TaskInstanceRow } from '../../../runtime/store/database.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

// The caps and the order of the claim (claim.ts), each on a DAG of its own so that no test's claims count against
// another's. Tasks are declared in id order, so a claim that ignored priority would take them in that order.
const FILE = 'claim-caps.dag.ts'
const dags = [
  defineDag({ id: 'capped', maxActiveTasks: 2 }, (d) => {
    for (let i = 0; i < 5; i++) d.task(`t${i}`, () => i)
  }),
  defineDag({ id: 'prioritised' }, (d) => {
    d.task('low', () => 1, { priority: 1 })
    d.task('mid', () => 1, { priority: 5 })
    d.task('high', () => 1, { priority: 10 })
  }),
  defineDag({ id: 'prioritised_pool' }, (d) => {
    d.task('low', () => 1, { priority: 1, pool: 'single' })
    d.task('mid', () => 1, { priority: 5, pool: 'single' })
    d.task('high', () => 1, { priority: 10, pool: 'single' })
  }),
  defineDag({ id: 'wide_slots' }, (d) => {
    d.task('w0', () => 1, { pool: 'three', poolSlots: 2 })
    d.task('w1', () => 1, { pool: 'three', poolSlots: 2 })
  }),
].map((d) => serializeDag(d, FILE))

describe.each(STORE_KINDS)('claim caps and order on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, dags, [])
    await t.store.db
      .insertInto('pool')
      .values([
        { name: 'single', slots: 1 },
        { name: 'three', slots: 3 },
      ])
      .execute()
  })
  afterAll(() => t?.cleanup())

  /** A running run of `dagId` with its instances scheduled; claim(n) claims for it, finish(ti) records a success. */
  async function ready(dagId: string) {
    const db = t.store.db
    const run = await triggerRun(db, dagId, {})
    await startQueuedRuns(db)
    await decideTasks(db, new Set([run.id]), new Date())
    const claim = async (capacity: number) => (await claimTasks(db, 'me', capacity, run.id)).map((c) => c.task_id)
    const finish = async (taskId: string) => {
      const ti: TaskInstanceRow = await db
        .selectFrom('task_instance')
        .selectAll()
        .where('dag_run_id', '=', run.id)
        .where('task_id', '=', taskId)
        .executeTakeFirstOrThrow()
      const task = dags.find((d) => d.dag_id === dagId)!.tasks.find((x) => x.task_id === taskId)!
      const r = await recordEventsIn(
        db,
        'me',
        [],
        [
          {
            tiId: ti.id,
            tryNumber: ti.try_number,
            maxTries: ti.max_tries,
            runPk: run.id,
            taskId,
            mapIndex: -1,
            task,
            ok: true,
            result: 1,
            nonRetryable: false,
            reason: null,
            log: '',
          },
        ],
        1 << 20,
      )
      expect(r.succeeded.has(ti.id)).toBe(true)
    }
    return { claim, finish }
  }

  it('never runs more of a DAG at once than maxActiveTasks', async () => {
    const { claim, finish } = await ready('capped')
    const first = await claim(10)
    expect(first).toHaveLength(2)
    expect(await claim(10)).toEqual([])
    await finish(first[0]!)
    expect(await claim(10)).toHaveLength(1)
  })

  it('claims higher priority first, when capacity is short', async () => {
    const { claim, finish } = await ready('prioritised')
    expect(await claim(1)).toEqual(['high'])
    await finish('high')
    expect(await claim(1)).toEqual(['mid'])
    expect(await claim(1)).toEqual(['low'])
  })

  it('claims higher priority first, when the pool is short', async () => {
    const { claim, finish } = await ready('prioritised_pool')
    expect(await claim(10)).toEqual(['high'])
    await finish('high')
    expect(await claim(10)).toEqual(['mid'])
  })

  it('counts poolSlots, not instances, against a pool', async () => {
    const { claim, finish } = await ready('wide_slots')
    // 3 slots, 2 a task: one at a time.
    const first = await claim(10)
    expect(first).toHaveLength(1)
    expect(await claim(10)).toEqual([])
    await finish(first[0]!)
    expect(await claim(10)).toHaveLength(1)
  })
})
