/**
 * A dataset event wakes the schedulers (NOTIFY 'dataset'), so a consumer's run is created without waiting for a
 * poll: with the poll an hour apart, the run still appears as soon as the producer succeeds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { datasetConsumer, datasetProducer } from '../../fixtures/dags-runtime/datasets.dag.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { finishedRuns, scheduleUntil } from '../../helpers/schedule-until.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

describe.each(STORE_KINDS)('dataset wakeup on %s', (kind) => {
  let t: TestStore
  beforeEach(async () => {
    t = await openTestStore(kind)
  })
  afterEach(async () => t.cleanup())

  it('the consumer run is created by the event’s wakeup, not by a poll', async () => {
    await syncDags(
      t.store.db,
      [datasetProducer, datasetConsumer].map((d) => serializeDag(d, 'datasets.dag.ts')),
      [],
    )
    // Only the loop's first pass is a periodic one; the producer's event lands after it, so a poll would come in an hour.
    const config = testConfig({ pollIntervalMs: 3_600_000 })
    await triggerRun(t.store.db, 'dataset_producer', { version: 'v1' })
    await scheduleUntil(t.store, () => finishedRuns(t.store, 'dataset_consumer', 1), config, 30_000)
    const runs = await t.store.db.selectFrom('dag_run').select(['run_type', 'state']).where('dag_id', '=', 'dataset_consumer').execute()
    expect(runs).toEqual([{ run_type: 'dataset_triggered', state: 'success' }])
  })
})
