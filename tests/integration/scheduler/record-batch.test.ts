import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import { recordEventsIn, type Finished, type Handoff } from '../../../runtime/store/attempt-record.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { wholeLog } from '../../../runtime/store/attempt-log.ts'
import { RECORD_FEW_MAX } from '../../../runtime/store/attempt-record-sql.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

// Results are recorded by one of three statements (attempt-record-sql.ts): a single success with its handoff, a few results,
// or many. The same events, recorded one at a time (mostly the first), in pairs (the second) and all at once (the
// third), must leave the same rows: states, retries, XCom, attempts, logs and handoffs.
const WIDTH = RECORD_FEW_MAX + 4
const dag = serializeDag(
  defineDag({ id: 'record_batch', maxActiveTasks: 10_000, defaults: { retries: 1, retryDelay: '1h' } }, (d) => {
    const gate = d.task('gate', () => 0)
    for (let i = 0; i < WIDTH; i++) {
      const a = d.task(`a${i}`, () => i)
      // b0 has a second upstream still running: it must not be handed a's slot.
      d.task(`b${i}`, { inputs: { a: a.out }, run: () => i }, { after: i === 0 ? [gate] : [] })
    }
  }),
  'record-batch.dag.ts',
)

interface Outcome {
  ok: boolean
  result?: unknown
  nonRetryable?: boolean
}

/** a0 and b-successors are the interesting cases; the rest succeed with distinct results (one of them null). */
function outcomeOf(i: number): Outcome {
  if (i === 1) return { ok: false } // retryable: up_for_retry
  if (i === 2) return { ok: false, nonRetryable: true } // failed for good
  if (i === 3) return { ok: true, result: null }
  return { ok: true, result: { i, text: `é "${i}"` } }
}

describe.each(STORE_KINDS)('recording a batch of results on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, [dag], [])
    // Every scenario leaves instances claimed: room for all of them (pool and maxActiveTasks), so each claims its
    // whole width.
    await t.store.db.updateTable('pool').set({ slots: 10_000 }).where('name', '=', 'default_pool').execute()
  })
  afterAll(() => t?.cleanup())

  /** Runs the scenario, recording the a-results in batches of `batch`; returns the rows it left, keyed by task. */
  async function scenario(batch: number) {
    const run = await triggerRun(t.store.db, 'record_batch', {})
    await startQueuedRuns(t.store.db)
    await decideTasks(t.store.db, new Set([run.id]), new Date())
    const claimed = await claimTasks(t.store.db, 'me', 100, run.id)
    const finished: Finished[] = []
    const handoffs: Handoff[] = []
    for (let i = 0; i < WIDTH; i++) {
      const ti = claimed.find((c) => c.task_id === `a${i}`)!
      const o = outcomeOf(i)
      finished.push({
        tiId: ti.id,
        tryNumber: ti.try_number,
        maxTries: ti.max_tries,
        runPk: run.id,
        taskId: `a${i}`,
        mapIndex: -1,
        task: dag.tasks.find((x) => x.task_id === `a${i}`)!,
        ok: o.ok,
        result: o.result,
        nonRetryable: o.nonRetryable ?? false,
        reason: o.ok ? null : 'boom',
        log: `log of a${i}\n`,
      })
      handoffs.push({ from_id: ti.id, run: run.id, task_id: `b${i}`, ups: i === 0 ? ['gate'] : [] })
    }
    const handed: string[] = []
    for (let k = 0; k < WIDTH; k += batch) {
      const r = await recordEventsIn(t.store.db, 'me', [], finished.slice(k, k + batch), 1 << 20, handoffs.slice(k, k + batch))
      handed.push(...r.handed.map((h) => h.task_id))
    }
    const tis = await t.store.db
      .selectFrom('task_instance')
      .select(['id', 'task_id', 'state', 'try_number', 'max_tries', 'claimed_by', 'reason', 'run_after'])
      .where('dag_run_id', '=', run.id)
      .execute()
    const xcoms = await t.store.db.selectFrom('xcom').select(['task_id', 'value', 'size_bytes']).where('dag_run_id', '=', run.id).execute()
    const attempts = await t.store.db
      .selectFrom('task_attempt')
      .select(['task_instance_id', 'try_number', 'state', 'reason', wholeLog('task_attempt').as('log')])
      .where(
        'task_instance_id',
        'in',
        tis.map((x) => x.id),
      )
      .execute()
    const taskOf = new Map(tis.map((x) => [x.id, x.task_id]))
    return {
      handed: handed.sort(),
      tis: Object.fromEntries(tis.map(({ id: _id, run_after, ...x }) => [x.task_id, { ...x, delayed: run_after !== null }])),
      xcoms: Object.fromEntries(xcoms.map((x) => [x.task_id, { value: x.value, size: x.size_bytes }])),
      attempts: Object.fromEntries(
        attempts.map((a) => [`${taskOf.get(a.task_instance_id)}#${a.try_number}`, { state: a.state, reason: a.reason, log: a.log }]),
      ),
    }
  }

  it('leaves the same rows whether results come one at a time, in pairs or all at once', async () => {
    const one = await scenario(1)
    const pairs = await scenario(2)
    const all = await scenario(WIDTH)
    expect(pairs).toEqual(one)
    expect(all).toEqual(one)
    // And the rows are the right ones, so that both statements cannot be wrong the same way.
    expect(one.handed).toEqual(
      Array.from({ length: WIDTH }, (_, i) => `b${i}`)
        .filter((b) => !['b0', 'b1', 'b2'].includes(b))
        .sort(),
    )
    expect(one.tis.a0).toMatchObject({ state: 'success', try_number: 1, delayed: false })
    expect(one.tis.b0).toMatchObject({ state: null, try_number: 0 })
    expect(one.tis.a1).toMatchObject({ state: 'up_for_retry', max_tries: 2, delayed: true, reason: 'boom (attempt 1 of 2; retrying)' })
    expect(one.tis.a2).toMatchObject({ state: 'failed', reason: 'boom' })
    expect(one.tis.b5).toMatchObject({ state: 'queued', try_number: 1, claimed_by: 'me' })
    expect(one.xcoms.a3).toEqual({ value: null, size: 4 })
    expect(one.xcoms.a5).toEqual({ value: { i: 5, text: 'é "5"' }, size: Buffer.byteLength(JSON.stringify({ i: 5, text: 'é "5"' })) })
    expect(one.xcoms.a1).toBeUndefined()
    expect(one.attempts['a1#1']).toEqual({ state: 'up_for_retry', reason: 'boom (attempt 1 of 2; retrying)', log: 'log of a1\n' })
    expect(one.attempts['a5#1']).toMatchObject({ state: 'success', log: 'log of a5\n' })
    expect(one.attempts['b5#1']).toMatchObject({ state: 'queued' })
    expect(one.attempts['b0#1']).toBeUndefined()
  })

  it("drops a late result whose attempt is no longer this scheduler's, in a large batch too", async () => {
    const run = await triggerRun(t.store.db, 'record_batch', {})
    await startQueuedRuns(t.store.db)
    await decideTasks(t.store.db, new Set([run.id]), new Date())
    const claimed = (await claimTasks(t.store.db, 'me', 100, run.id)).filter((c) => c.task_id.startsWith('a'))
    // Another scheduler reaped and reclaimed a0 meanwhile.
    await t.store.db.updateTable('task_instance').set({ claimed_by: 'other', try_number: 2 }).where('id', '=', claimed[0]!.id).execute()
    const finished: Finished[] = claimed.map((ti) => ({
      tiId: ti.id,
      tryNumber: 1,
      maxTries: 2,
      runPk: run.id,
      taskId: ti.task_id,
      mapIndex: -1,
      task: dag.tasks.find((x) => x.task_id === ti.task_id)!,
      ok: true,
      result: 1,
      nonRetryable: false,
      reason: null,
      log: '',
    }))
    const r = await recordEventsIn(t.store.db, 'me', [], finished, 1 << 20, [])
    expect(finished.length).toBeGreaterThan(RECORD_FEW_MAX)
    expect(r.succeeded.has(claimed[0]!.id)).toBe(false)
    expect(r.succeeded.size).toBe(finished.length - 1)
    const a0 = await t.store.db.selectFrom('task_instance').select(['state', 'claimed_by']).where('id', '=', claimed[0]!.id).executeTakeFirstOrThrow()
    expect(a0).toEqual({ state: 'queued', claimed_by: 'other' })
    const x = await t.store.db.selectFrom('xcom').select('task_instance_id').where('task_instance_id', '=', claimed[0]!.id).execute()
    expect(x).toEqual([])
  })
})
