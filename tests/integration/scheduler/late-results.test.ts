import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import { loadAttempts } from '../../../runtime/store/attempt-load.ts'
import { recordEventsIn, type Finished } from '../../../runtime/store/attempt-record.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { RECORD_FEW_MAX } from '../../../runtime/store/attempt-record-sql.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import type { Db } from '../../../runtime/store/database.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

// A result arrives after its attempt stopped being current. Each path that records results must drop it
// whole (no state, XCom or attempt change), whichever part of the guard notices.
const WIDTH = RECORD_FEW_MAX + 4
const dag = serializeDag(
  defineDag({ id: 'late_results', maxActiveTasks: 10_000, defaults: { retries: 1, retryDelay: '1h' } }, (d) => {
    for (let i = 0; i < WIDTH; i++) d.task(`a${String(i).padStart(2, '0')}`, () => i)
  }),
  'late-results.dag.ts',
)
/** How an attempt stops being current; each is caught by one part of the guard only. */
const GIVEN_UP = {
  // reaped and claimed again by this same scheduler: try 2 runs now
  try_number: (db: Db, id: number) => db.updateTable('task_instance').set({ try_number: 2 }).where('id', '=', id).execute(),
  // its attempt row was ended (its executor recorded it lost) while the instance still shows the try in flight
  attempt_state: (db: Db, id: number) => db.updateTable('task_attempt').set({ state: 'failed' }).where('task_instance_id', '=', id).execute(),
  // the reaper gave up on it and nobody has claimed it again yet
  state: (db: Db, id: number) =>
    db
      .updateTable('task_instance')
      .set({ state: 'up_for_retry' as const })
      .where('id', '=', id)
      .execute(),
}
type GuardPart = keyof typeof GIVEN_UP
const PARTS = Object.keys(GIVEN_UP) as GuardPart[]

// recordStatement (attempt-record.ts) picks the statement by what there is to record.
const STATEMENTS = { RECORD_ONE: 1, RECORD_FEW: 2, RECORD: WIDTH } as const

async function claimRun(db: Db, dagId: string) {
  const run = await triggerRun(db, dagId, {})
  await startQueuedRuns(db)
  await decideTasks(db, new Set([run.id]), new Date())
  const claimed = (await claimTasks(db, 'me', 100, run.id)).sort((x, y) => x.task_id.localeCompare(y.task_id))
  return { run, claimed }
}

async function rowsOf(db: Db, tiId: number) {
  return {
    ti: await db.selectFrom('task_instance').selectAll().where('id', '=', tiId).executeTakeFirstOrThrow(),
    xcom: await db.selectFrom('xcom').selectAll().where('task_instance_id', '=', tiId).execute(),
    attempts: await db.selectFrom('task_attempt').selectAll().where('task_instance_id', '=', tiId).execute(),
  }
}

describe.each(STORE_KINDS)('late results on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, [dag], [])
    // Every scenario leaves instances claimed: room for all of them.
    await t.store.db.updateTable('pool').set({ slots: 10_000 }).where('name', '=', 'default_pool').execute()
  })
  afterAll(() => t?.cleanup())

  describe.each(Object.entries(STATEMENTS))('%s', (_statement, n) => {
    it.each(PARTS)('drops a result whose attempt changed %s, and records the others', async (part) => {
      const db = t.store.db
      const { run, claimed } = await claimRun(db, 'late_results')
      const late = claimed[0]!
      await GIVEN_UP[part](db, late.id)
      const before = await rowsOf(db, late.id)
      const finished: Finished[] = claimed.slice(0, n).map((ti) => ({
        tiId: ti.id,
        tryNumber: 1,
        maxTries: 2,
        runPk: run.id,
        taskId: ti.task_id,
        mapIndex: -1,
        task: dag.tasks.find((x) => x.task_id === ti.task_id)!,
        ok: true,
        result: { from: ti.task_id },
        nonRetryable: false,
        reason: null,
        log: 'late line\n',
      }))
      const r = await recordEventsIn(db, 'me', [], finished, 1 << 20, [])
      expect(r.succeeded.has(late.id)).toBe(false)
      expect(r.succeeded.size).toBe(n - 1)
      expect(await rowsOf(db, late.id)).toEqual(before)
      if (n > 1) expect((await rowsOf(db, claimed[1]!.id)).ti.state).toBe('success')
    })
  })
})
