import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as dags from '../../fixtures/dags-runtime/guards.dag.ts'
import { runDagOnce } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const FILE = 'guards.dag.ts'
// A retry is due when run_after passes; its start may lag by a scheduler pass. Without a timer for it the run was
// looked at again only once a second, whatever the delay.
const LAG_MS = 200
// run_after is taken on the scheduler's clock a moment before the failure's end_date is written by the database.
const EARLY_MS = 10

describe.each(STORE_KINDS)('retry timing on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())

  /** Gaps between one attempt's end and the next one's start, in ms, from the attempt rows (database clock). */
  async function gaps(tiId: number): Promise<number[]> {
    const attempts = await t.store.db
      .selectFrom('task_attempt')
      .select(['start_date', 'end_date'])
      .where('task_instance_id', '=', tiId)
      .orderBy('try_number')
      .execute()
    return attempts.slice(1).map((a, i) => a.start_date.getTime() - attempts[i]!.end_date!.getTime())
  }

  it('starts a retry due in 300 ms within a scheduler pass of its due time', async () => {
    const r = await runDagOnce(t.store, dags.fastRetry, FILE)
    expect(r.ti('flaky')).toMatchObject({ state: 'success', try_number: 2 })
    const [gap] = await gaps(r.ti('flaky').id)
    expect(gap).toBeGreaterThanOrEqual(300 - EARLY_MS)
    expect(gap).toBeLessThan(300 + LAG_MS)
  })

  it('backs off exponentially between attempts of a real run, within the jitter bounds', async () => {
    const r = await runDagOnce(t.store, dags.exponentialBackoff, FILE)
    expect(r.ti('flaky')).toMatchObject({ state: 'success', try_number: 4 })
    const g = await gaps(r.ti('flaky').id)
    // retryDelay 200 ms doubled per failed attempt, each with ±25 % jitter: [150, 250], [300, 500], [600, 1000].
    expect(g).toHaveLength(3)
    for (const [i, gap] of g.entries()) {
      const base = 200 * 2 ** i
      expect(gap, `gap after attempt ${i + 1}`).toBeGreaterThanOrEqual(base * 0.75 - EARLY_MS)
      expect(gap, `gap after attempt ${i + 1}`).toBeLessThan(base * 1.25 + LAG_MS)
    }
  })
})
