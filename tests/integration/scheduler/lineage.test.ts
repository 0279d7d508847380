/** forge lineage walks model version -> training run -> dataset version -> producing run -> shards with their seeds. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { createDatasetRuns } from '../../../runtime/scheduler/create-dataset-runs.ts'
import { lineage, parseLineageTarget } from '../../../runtime/service/lineage.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { lineageProducer, lineageTrainer } from '../../fixtures/dags-runtime/lineage.dag.ts'
import { runDagOnce } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

describe.each(STORE_KINDS)('lineage on %s', (kind) => {
  let t: TestStore
  beforeEach(async () => {
    t = await openTestStore(kind)
  })
  afterEach(async () => t.cleanup())

  async function event(uri: string, version: string, source: { dag: string; run: string; task: string }, extra: Record<string, unknown> = {}) {
    const db = t.store.db
    const ds = await db
      .insertInto('dataset')
      .values({ uri, extra: '{}' })
      .onConflict((oc) => oc.column('uri').doUpdateSet({ uri }))
      .returning('id')
      .executeTakeFirstOrThrow()
    return db
      .insertInto('dataset_event')
      .values({
        dataset_id: ds.id,
        version,
        source_dag_id: source.dag,
        source_run_id: source.run,
        source_task_id: source.task,
        extra: JSON.stringify(extra),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  }

  it('from a model version back to the shards and scenario seeds of the dataset it was trained on', async () => {
    const db = t.store.db
    const produced = await runDagOnce(t.store, lineageProducer, 'lineage.dag.ts')
    expect(produced.run.state).toBe('success')
    await syncDags(db, [serializeDag(lineageProducer, 'lineage.dag.ts'), serializeDag(lineageTrainer, 'lineage.dag.ts')], [])
    await event(
      'dataset://lineage_demo',
      'v1',
      { dag: 'lineage_producer', run: produced.run.run_id, task: 'simulate' },
      { md5: '0123abcd.dir', tag: 'lineage_demo@v1' },
    )
    expect(await createDatasetRuns(db)).toBe(1)
    const trainRun = await db.selectFrom('dag_run').select('run_id').where('dag_id', '=', 'lineage_trainer').executeTakeFirstOrThrow()
    await event('model://demo-detector', '3', { dag: 'lineage_trainer', run: trainRun.run_id, task: 'train' }, { mlflow_run_id: 'abc' })

    const result = await lineage(db, parseLineageTarget('model', 'demo-detector/3'))
    const kinds = result.upstream.map((n) => (n.kind === 'event' ? `event ${n.uri} ${n.version}` : `run ${n.dag_id}`))
    expect(kinds).toEqual(['event model://demo-detector 3', 'run lineage_trainer', 'event dataset://lineage_demo v1', 'run lineage_producer'])
    const producer = result.upstream[3]!
    expect(producer.kind === 'run' && producer.mapped).toEqual([
      {
        task_id: 'simulate',
        instances: [
          { map_index: 0, state: 'success', item: { map: 'Town01', seed: 7 }, result: { shard: 'Town01-s7', dir: 'datasets/Town01-s7', frames: 40 } },
          { map_index: 1, state: 'success', item: { map: 'Town03', seed: 8 }, result: { shard: 'Town03-s8', dir: 'datasets/Town03-s8', frames: 40 } },
        ],
      },
    ])
    const dataset = await lineage(db, parseLineageTarget('dataset', 'lineage_demo@v1'))
    expect(dataset.upstream.map((n) => n.kind)).toEqual(['event', 'run'])
    const fromRun = await lineage(db, parseLineageTarget('run', produced.run.run_id))
    expect(fromRun.downstream.map((n) => (n.kind === 'event' ? n.uri : n.dag_id))).toEqual(['dataset://lineage_demo', 'lineage_trainer'])
  })

  it('names what it cannot find and refuses malformed references', async () => {
    await expect(lineage(t.store.db, parseLineageTarget('model', 'nope/1'))).rejects.toThrow(/no model nope version 1/)
    expect(() => parseLineageTarget('dataset', 'carla_nightly-3')).toThrow(/dataset must be NAME@vN/)
    expect(() => parseLineageTarget('model', 'no-version')).toThrow(/model must be NAME\/VERSION/)
    expect(() => parseLineageTarget('frames', 'x')).toThrow(/lineage of "frames"/)
  })
})
