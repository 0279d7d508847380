/**
 * Data-aware scheduling: a producer's success records dataset events (with the version it made), each event starts
 * the DAGs scheduled on the dataset once, and the consumer's tasks see the events that started their run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DagDefinition } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { createDatasetRuns } from '../../../runtime/scheduler/create-dataset-runs.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { datasetBatchConsumer, datasetConsumer, datasetProducer } from '../../fixtures/dags-runtime/datasets.dag.ts'
import { finishedRuns, scheduleUntil } from '../../helpers/schedule-until.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const FILE = 'datasets.dag.ts'

describe.each(STORE_KINDS)('datasets on %s', (kind) => {
  let t: TestStore
  beforeEach(async () => {
    t = await openTestStore(kind)
  })
  afterEach(async () => t.cleanup())

  const db = () => t.store.db
  const register = (...defs: Array<DagDefinition<any>>) =>
    syncDags(
      db(),
      defs.map((d) => serializeDag(d, FILE)),
      [],
    )
  const runsOf = (dagId: string) => db().selectFrom('dag_run').selectAll().where('dag_id', '=', dagId).orderBy('id').execute()

  const schedule = (done: () => Promise<boolean>) => scheduleUntil(t.store, done)
  const finished = (dagId: string, n: number) => finishedRuns(t.store, dagId, n)

  it('a producer run starts one consumer run, whose task sees the event, its version and its producer', async () => {
    await register(datasetProducer, datasetConsumer)
    await triggerRun(db(), 'dataset_producer', { version: 'v1' })
    await schedule(() => finished('dataset_consumer', 1))
    const [run] = await runsOf('dataset_consumer')
    expect(run!.run_type).toBe('dataset_triggered')
    expect(run!.state).toBe('success')
    expect(run!.run_id).toMatch(/^dataset_triggered__\d{4}-\d\d-\d\dT.*_\d+$/)
    const x = await db().selectFrom('xcom').select('value').where('dag_run_id', '=', run!.id).executeTakeFirstOrThrow()
    expect(x.value).toEqual([{ uri: 'memory://frames', version: 'v1', from: 'dataset_producer', task: 'produce', frames: 40 }])
    const events = await db()
      .selectFrom('dataset_event')
      .innerJoin('dataset', 'dataset.id', 'dataset_event.dataset_id')
      .select(['uri', 'version', 'source_task_id'])
      // The two tasks finish in either order: compare by dataset.
      .orderBy('uri')
      .execute()
    expect(events).toEqual([
      { uri: 'memory://frames', version: 'v1', source_task_id: 'produce' },
      { uri: 'memory://labels', version: null, source_task_id: 'export_labels' },
    ])
  })

  it('a version produced again (a re-run producer) records no second event and starts no second run; a new version does', async () => {
    await register(datasetProducer, datasetConsumer)
    await triggerRun(db(), 'dataset_producer', { version: 'v1' })
    await schedule(() => finished('dataset_consumer', 1))
    await triggerRun(db(), 'dataset_producer', { version: 'v1' }, { logicalDate: new Date(Date.now() + 1000) })
    await schedule(() => finished('dataset_producer', 2))
    await createDatasetRuns(db())
    expect(await runsOf('dataset_consumer')).toHaveLength(1)
    await triggerRun(db(), 'dataset_producer', { version: 'v2' }, { logicalDate: new Date(Date.now() + 2000) })
    await schedule(() => finished('dataset_consumer', 2))
    const versions = await db().selectFrom('dataset_event').select('version').where('version', 'is not', null).orderBy('id').execute()
    expect(versions.map((v) => v.version)).toEqual(['v1', 'v2'])
  })

  it('a batch consumer runs once every dataset it names has a new event, with all of them', async () => {
    await register(datasetProducer, datasetBatchConsumer)
    // Only frames so far: nothing to run.
    await db()
      .transaction()
      .execute(async (trx) => {
        const ds = await trx.insertInto('dataset').values({ uri: 'memory://frames', extra: '{}' }).returning('id').executeTakeFirstOrThrow()
        await trx.insertInto('dataset_event').values({ dataset_id: ds.id, version: 'manual', extra: '{}' }).execute()
      })
    expect(await createDatasetRuns(db())).toBe(0)
    await triggerRun(db(), 'dataset_producer', { version: 'v9' })
    await schedule(() => finished('dataset_batch_consumer', 1))
    const [run] = await runsOf('dataset_batch_consumer')
    const x = await db().selectFrom('xcom').select('value').where('dag_run_id', '=', run!.id).executeTakeFirstOrThrow()
    // The run starts once both datasets have a new event: the earlier frames event and the labels one at least
    // (the producer's frames event may land before or after its labels one).
    expect(new Set(x.value as string[])).toEqual(new Set(['memory://frames', 'memory://labels']))
    expect((x.value as string[]).filter((u) => u === 'memory://frames').length).toBeGreaterThanOrEqual(1)
  })

  it('a consumer registered after an event does not run for it, and a paused one waits until unpaused', async () => {
    await register(datasetProducer)
    await triggerRun(db(), 'dataset_producer', { version: 'old' })
    await schedule(() => finished('dataset_producer', 1))
    await register(datasetProducer, datasetConsumer)
    expect(await createDatasetRuns(db())).toBe(0)
    await db().updateTable('dag').set({ is_paused: true }).where('dag_id', '=', 'dataset_consumer').execute()
    await triggerRun(db(), 'dataset_producer', { version: 'new' }, { logicalDate: new Date(Date.now() + 1000) })
    await schedule(() => finished('dataset_producer', 2))
    expect(await createDatasetRuns(db())).toBe(0)
    await db().updateTable('dag').set({ is_paused: false }).where('dag_id', '=', 'dataset_consumer').execute()
    expect(await createDatasetRuns(db())).toBe(1)
    expect(await createDatasetRuns(db())).toBe(0)
  })

  it.runIf(kind === 'postgres')('schedulers racing over the same events create one run per event', async () => {
    await register(datasetProducer, datasetConsumer)
    await db()
      .transaction()
      .execute(async (trx) => {
        const ds = await trx.insertInto('dataset').values({ uri: 'memory://frames', extra: '{}' }).returning('id').executeTakeFirstOrThrow()
        for (let i = 0; i < 20; i++)
          await trx
            .insertInto('dataset_event')
            .values({ dataset_id: ds.id, version: `r${i}`, extra: '{}' })
            .execute()
      })
    const created = await Promise.all(Array.from({ length: 4 }, () => createDatasetRuns(db())))
    expect(created.reduce((a, b) => a + b, 0)).toBe(20)
    expect(await runsOf('dataset_consumer')).toHaveLength(20)
  })
})
