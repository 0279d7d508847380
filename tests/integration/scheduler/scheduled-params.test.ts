import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag, type SerializedDag } from '../../../runtime/dag/serialize.ts'
import { createDueRuns } from '../../../runtime/scheduler/create-runs.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

// The processor refuses a scheduled DAG whose params have no valid defaults, so such a row comes from an older
// adas-forge (or a schedule added by hand); the scheduler must still never start it with params that cannot be valid.
function scheduledWithoutDefaults(legacy = false): SerializedDag {
  const manual = serializeDag(
    defineDag(
      { id: 'needs_bucket', startDate: '2026-03-29T00:00:00Z', catchup: true, params: z.object({ bucket: z.string() }) },
      (d) => void d.task('t', () => 1),
    ),
    'needs_bucket.dag.ts',
  )
  const dag = { ...manual, schedule: '0 * * * *' }
  if (legacy) delete (dag as Partial<SerializedDag>).params_error
  return dag
}

describe.each(STORE_KINDS)('scheduled runs of a DAG whose params cannot be valid, on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())
  beforeEach(async () => {
    await t.store.db.deleteFrom('dag').execute()
  })
  const runs = () => t.store.db.selectFrom('dag_run').selectAll().orderBy('logical_date').execute()

  it('creates one failed run per due pass, with the field named in its reason, and no task instances', async () => {
    await syncDags(t.store.db, [scheduledWithoutDefaults()], [])
    expect(await createDueRuns(t.store.db, new Date('2026-03-29T10:30:00Z'))).toBe(1)
    const [run, ...rest] = await runs()
    expect(rest).toEqual([])
    expect(run).toMatchObject({ run_id: 'scheduled__2026-03-29T09:00:00.000Z', state: 'failed', reason: expect.stringMatching(/param "bucket"/) })
    expect(run!.end_date).not.toBeNull()
    expect(await t.store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run!.id).execute()).toEqual([])
    // Catchup does not replay every missed interval as a failed run; the next interval fails once it is due.
    expect(await createDueRuns(t.store.db, new Date('2026-03-29T10:59:00Z'))).toBe(0)
    expect(await createDueRuns(t.store.db, new Date('2026-03-29T11:00:00Z'))).toBe(1)
    expect((await runs()).map((r) => [r.run_id, r.state])).toEqual([
      ['scheduled__2026-03-29T09:00:00.000Z', 'failed'],
      ['scheduled__2026-03-29T10:00:00.000Z', 'failed'],
    ])
  })

  it('fails the run also for a version serialized before params_error existed (default_params null)', async () => {
    await syncDags(t.store.db, [scheduledWithoutDefaults(true)], [])
    expect(await createDueRuns(t.store.db, new Date('2026-03-29T10:30:00Z'))).toBe(1)
    expect(await runs()).toEqual([expect.objectContaining({ state: 'failed', reason: expect.stringMatching(/no valid defaults.*forge dags list/) })])
  })
})
