import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import { recordEventsIn, type Finished } from '../../../runtime/store/attempt-record.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

// a -> b, and c -> b: b may be handed a's slot only once c has succeeded too.
const dag = serializeDag(
  defineDag({ id: 'handoff' }, (d) => {
    const a = d.task('a', () => 1)
    const c = d.task('c', () => 2)
    d.task('b', { inputs: { a: a.out, c: c.out }, run: () => 3 })
  }),
  'handoff.dag.ts',
)

describe.each(STORE_KINDS)('slot handoff on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, [dag], [])
  })
  afterAll(() => t?.cleanup())

  async function running() {
    const run = await triggerRun(t.store.db, 'handoff', {})
    await startQueuedRuns(t.store.db)
    await decideTasks(t.store.db, new Set([run.id]), new Date())
    const claimed = await claimTasks(t.store.db, 'me', 10, run.id)
    const ti = (id: string) => claimed.find((c) => c.task_id === id)!
    const finish = (id: string, ok = true): Finished => ({
      tiId: ti(id).id,
      tryNumber: 1,
      maxTries: 1,
      runPk: run.id,
      taskId: id,
      mapIndex: -1,
      task: dag.tasks.find((x) => x.task_id === id)!,
      ok,
      result: ok ? 1 : undefined,
      nonRetryable: false,
      reason: ok ? null : 'boom',
      log: '',
    })
    const b = async () =>
      t.store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run.id).where('task_id', '=', 'b').executeTakeFirstOrThrow()
    return { run, finish, b }
  }

  it('claims the successor in the same statement once every other upstream has succeeded', async () => {
    const { run, finish, b } = await running()
    const first = await recordEventsIn(t.store.db, 'me', [], [finish('a')], 1 << 20, [
      { from_id: finish('a').tiId, run: run.id, task_id: 'b', ups: ['c'] },
    ])
    expect(first.handed).toEqual([]) // c is still running
    expect((await b()).state).toBeNull()
    const second = await recordEventsIn(t.store.db, 'me', [], [finish('c')], 1 << 20, [
      { from_id: finish('c').tiId, run: run.id, task_id: 'b', ups: ['a'] },
    ])
    expect(second.handed.map((h) => [h.task_id, h.state, h.try_number, h.claimed_by])).toEqual([['b', 'queued', 1, 'me']])
    expect(await b()).toMatchObject({ state: 'queued', try_number: 1, claimed_by: 'me' })
    const attempt = await t.store.db
      .selectFrom('task_attempt')
      .selectAll()
      .where('task_instance_id', '=', (await b()).id)
      .executeTakeFirstOrThrow()
    expect(attempt).toMatchObject({ try_number: 1, state: 'queued', scheduler_id: 'me' })
  })

  it('hands nothing over when the finished task failed', async () => {
    const { run, finish, b } = await running()
    await recordEventsIn(t.store.db, 'me', [], [finish('c')], 1 << 20, [])
    const r = await recordEventsIn(t.store.db, 'me', [], [finish('a', false)], 1 << 20, [
      { from_id: finish('a').tiId, run: run.id, task_id: 'b', ups: ['c'] },
    ])
    expect(r.handed).toEqual([])
    expect((await b()).state).toBeNull()
  })
})
