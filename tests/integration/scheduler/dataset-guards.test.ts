/**
 * The guards that make dataset events start each consumer run exactly once: only a successful attempt produces,
 * a batch schedule's cursor takes every event once and skips none, and event ids commit in order so the cursor
 * never passes an event a slower producer commits later.
 */
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DagDefinition } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { createDatasetRuns } from '../../../runtime/scheduler/create-dataset-runs.ts'
import { recordOutletsIn } from '../../../runtime/store/attempt-outlets.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import {
  datasetBatchConsumer,
  datasetFlakyConsumer,
  datasetFlakyProducer,
  datasetProducer,
  datasetSingleConsumer,
  datasetSingleProducer,
} from '../../fixtures/dags-runtime/datasets.dag.ts'
import { finishedRuns, scheduleUntil } from '../../helpers/schedule-until.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

describe.each(STORE_KINDS)('dataset guards on %s', (kind) => {
  let t: TestStore
  beforeEach(async () => {
    t = await openTestStore(kind)
  })
  afterEach(async () => t.cleanup())

  const db = () => t.store.db
  const register = (...defs: Array<DagDefinition<any>>) =>
    syncDags(
      db(),
      defs.map((d) => serializeDag(d, 'datasets.dag.ts')),
      [],
    )
  /** An event recorded as a producer outside adas-forge would: committed at once. */
  const addEvent = async (uri: string, version: string): Promise<number> => {
    const ds = await db()
      .insertInto('dataset')
      .values({ uri, extra: '{}' })
      .onConflict((oc) => oc.column('uri').doUpdateSet({ uri }))
      .returning('id')
      .executeTakeFirstOrThrow()
    const e = await db().insertInto('dataset_event').values({ dataset_id: ds.id, version, extra: '{}' }).returning('id').executeTakeFirstOrThrow()
    return Number(e.id)
  }
  /** The consumer's runs, oldest first, each with the ids of the events that started it. */
  const runEvents = async (dagId: string): Promise<number[][]> => {
    const rows = await db()
      .selectFrom('dag_run as r')
      .leftJoin('dag_run_dataset_event as l', 'l.dag_run_id', 'r.id')
      .select(['r.id', 'l.dataset_event_id'])
      .where('r.dag_id', '=', dagId)
      .orderBy('r.id')
      .orderBy('l.dataset_event_id')
      .execute()
    const byRun = new Map<number, number[]>()
    for (const r of rows) {
      const list = byRun.get(r.id) ?? []
      if (r.dataset_event_id !== null) list.push(Number(r.dataset_event_id))
      byRun.set(r.id, list)
    }
    return [...byRun.values()]
  }

  it('a producer whose first try fails and whose retry succeeds records one event and starts one consumer run', async () => {
    await register(datasetFlakyProducer, datasetFlakyConsumer)
    await triggerRun(db(), 'dataset_flaky_producer', {})
    await scheduleUntil(t.store, () => finishedRuns(t.store, 'dataset_flaky_consumer', 1))
    const ti = await db()
      .selectFrom('task_instance')
      .select(['state', 'try_number'])
      .where('dag_id', '=', 'dataset_flaky_producer')
      .executeTakeFirstOrThrow()
    expect(ti).toEqual({ state: 'success', try_number: 2 })
    const events = await db().selectFrom('dataset_event').select(['source_task_id']).execute()
    expect(events).toEqual([{ source_task_id: 'produce' }])
    // The failed try was recorded before the retry: an event of its own would have its own run by now.
    await createDatasetRuns(db())
    expect(await runEvents('dataset_flaky_consumer')).toHaveLength(1)
  })

  it('a producer whose event fails to record once is recorded again with its event: the success is not kept without it', async () => {
    await register(datasetSingleProducer, datasetSingleConsumer)
    // The first dataset_event insert fails (a sequence, so that the count survives the rollback).
    await sql`create sequence fail_event_seq`.execute(db())
    await sql
      .raw(
        `create function fail_event_once() returns trigger language plpgsql as $$
         begin if nextval('fail_event_seq') = 1 then raise exception 'injected: the event insert fails once'; end if; return new; end $$`,
      )
      .execute(db())
    await sql`create trigger fail_event_once before insert on dataset_event for each row execute function fail_event_once()`.execute(db())
    await triggerRun(db(), 'dataset_single_producer', { version: 'v7' })
    await scheduleUntil(t.store, () => finishedRuns(t.store, 'dataset_single_consumer', 1), undefined, 30_000)
    const x = await db()
      .selectFrom('xcom')
      .innerJoin('dag_run', 'dag_run.id', 'xcom.dag_run_id')
      .select('xcom.value')
      .where('dag_run.dag_id', '=', 'dataset_single_consumer')
      .executeTakeFirstOrThrow()
    expect(x.value).toEqual(['v7'])
  })

  it('a batch schedule takes every event once: a later batch holds only the events after the earlier one', async () => {
    await register(datasetBatchConsumer)
    const f1 = await addEvent('memory://frames', 'f1')
    const l1 = await addEvent('memory://labels', 'l1')
    expect(await createDatasetRuns(db())).toBe(1)
    const f2 = await addEvent('memory://frames', 'f2')
    // Half a batch: nothing runs, and nothing is consumed.
    expect(await createDatasetRuns(db())).toBe(0)
    const f3 = await addEvent('memory://frames', 'f3')
    const l2 = await addEvent('memory://labels', 'l2')
    expect(await createDatasetRuns(db())).toBe(1)
    expect(await createDatasetRuns(db())).toBe(0)
    expect(await runEvents('dataset_batch_consumer')).toEqual([
      [f1, l1],
      [f2, f3, l2],
    ])
  })

  it('a batch schedule sees past more than a thousand events of one dataset to the event that completes it', async () => {
    await register(datasetBatchConsumer)
    const first = await addEvent('memory://frames', 'f0')
    const ds = await db().selectFrom('dataset').select('id').where('uri', '=', 'memory://frames').executeTakeFirstOrThrow()
    await db()
      .insertInto('dataset_event')
      .values(Array.from({ length: 1000 }, (_, i) => ({ dataset_id: ds.id, version: `f${i + 1}`, extra: '{}' })))
      .execute()
    const label = await addEvent('memory://labels', 'l0')
    expect(await createDatasetRuns(db())).toBe(1)
    const [run] = await runEvents('dataset_batch_consumer')
    expect(run).toHaveLength(1002)
    expect([run![0], run![1001]]).toEqual([first, label])
  })

  it.runIf(kind === 'postgres')('an event committed after a later-numbered one is not skipped by the cursor', async () => {
    await register(datasetProducer, datasetBatchConsumer)
    const run = await triggerRun(db(), 'dataset_producer', { version: 'x' })
    const tis = await db().selectFrom('task_instance').select(['id', 'task_id']).where('dag_run_id', '=', run.id).execute()
    const tiOf = (task: string) => tis.find((x) => x.task_id === task)!.id
    const f1 = await addEvent('memory://frames', 'f1')
    // A: a producer's transaction that has inserted its frames event and not committed yet.
    let inserted!: () => void
    let commit!: () => void
    const aInserted = new Promise<void>((r) => (inserted = r))
    const aMayCommit = new Promise<void>((r) => (commit = r))
    const a = db()
      .transaction()
      .execute(async (trx) => {
        await recordOutletsIn(trx, [
          { source: { tiId: tiOf('produce'), tryNumber: 1 }, outlets: [{ uri: 'memory://frames', extra: { version: 'f2' } }] },
        ])
        inserted()
        await aMayCommit
      })
    await aInserted
    // B: another producer's labels event, drawn after A's and (without the ordering lock) committed first.
    let bDone = false
    const b = recordOutletsIn(db(), [
      { source: { tiId: tiOf('export_labels'), tryNumber: 1 }, outlets: [{ uri: 'memory://labels', extra: { version: 'l1' } }] },
    ]).then(() => void (bDone = true))
    for (let i = 0; i < 500 && !bDone; i++) {
      const waiting = await sql<{
        n: number
      }>`select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database where not l.granted and d.datname = current_database()`.execute(
        db(),
      )
      if (Number(waiting.rows[0]!.n) > 0) break
      await new Promise((r) => setTimeout(r, 20))
    }
    await createDatasetRuns(db())
    commit()
    await Promise.all([a, b])
    await createDatasetRuns(db())
    const events = await db().selectFrom('dataset_event').select('id').orderBy('id').execute()
    expect(events).toHaveLength(3)
    const consumed = (await runEvents('dataset_batch_consumer')).flat().sort((x, y) => x - y)
    expect(consumed).toEqual(events.map((e) => Number(e.id)))
    expect(consumed[0]).toBe(f1)
  })
})
