import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { createDueRuns } from '../../../runtime/scheduler/create-runs.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const hourly = (catchup: boolean, maxActiveRuns = 16) =>
  serializeDag(
    defineDag({ id: 'hourly', schedule: '0 * * * *', timezone: 'Europe/Berlin', startDate: '2026-03-29T00:00:00Z', catchup, maxActiveRuns }, (d) => {
      d.task('t', () => 1)
    }),
    'hourly.dag.ts',
  )

describe.each(STORE_KINDS)('run creation on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())
  beforeEach(async () => {
    await t.store.db.deleteFrom('dag').execute()
  })
  const runs = () =>
    t.store.db.selectFrom('dag_run').select(['run_id', 'state', 'logical_date', 'data_interval_end']).orderBy('logical_date').execute()

  it('with catchup creates one run per missed interval, each with its data interval, up to max_active_runs', async () => {
    await syncDags(t.store.db, [hourly(true, 5)], [])
    const now = new Date('2026-03-29T10:30:00Z')
    expect(await createDueRuns(t.store.db, now)).toBe(5)
    const r = await runs()
    expect(r.map((x) => x.run_id)).toEqual(['00', '01', '02', '03', '04'].map((h) => `scheduled__2026-03-29T${h}:00:00.000Z`))
    expect(r[0]!.data_interval_end).toEqual(new Date('2026-03-29T01:00:00Z'))
    // Nothing more while five are active; finishing two lets two more in, in order.
    expect(await createDueRuns(t.store.db, now)).toBe(0)
    await t.store.db.updateTable('dag_run').set({ state: 'success' }).where('run_id', 'in', [r[0]!.run_id, r[1]!.run_id]).execute()
    expect(await createDueRuns(t.store.db, now)).toBe(2)
    expect((await runs()).at(-1)!.run_id).toBe('scheduled__2026-03-29T06:00:00.000Z')
  })

  it('without catchup creates only the latest complete interval', async () => {
    await syncDags(t.store.db, [hourly(false)], [])
    expect(await createDueRuns(t.store.db, new Date('2026-03-29T10:30:00Z'))).toBe(1)
    expect((await runs()).map((x) => x.run_id)).toEqual(['scheduled__2026-03-29T09:00:00.000Z'])
    expect(await createDueRuns(t.store.db, new Date('2026-03-29T10:59:00Z'))).toBe(0)
    expect(await createDueRuns(t.store.db, new Date('2026-03-29T11:00:00Z'))).toBe(1)
  })

  it('never creates a scheduled run twice when schedulers race', async () => {
    await syncDags(t.store.db, [hourly(true, 50)], [])
    const now = new Date('2026-03-29T10:30:00Z')
    const [a, b] = await Promise.all([createDueRuns(t.store.db, now), createDueRuns(t.store.db, now)])
    expect(a + b).toBe(10)
    expect(new Set((await runs()).map((r) => r.run_id)).size).toBe(10)
  })

  it('starts queued runs only while the DAG is under max_active_runs', async () => {
    await syncDags(t.store.db, [hourly(true, 2)], [])
    await createDueRuns(t.store.db, new Date('2026-03-29T10:30:00Z'))
    expect(await startQueuedRuns(t.store.db)).toBe(2)
    expect(await startQueuedRuns(t.store.db)).toBe(0)
    expect((await runs()).map((r) => r.state)).toEqual(['running', 'running'])
  })

  it('migrations are safe when several processes start at once', async () => {
    const results = await Promise.all([migrate(t.store.db), migrate(t.store.db), migrate(t.store.db)])
    expect(results.every((r) => r.applied.length === 0 && r.aheadBy === 0)).toBe(true)
  })
})
