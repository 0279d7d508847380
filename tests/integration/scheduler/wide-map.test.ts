import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ForgeConfig } from '../../../runtime/config.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { failRunIn } from '../../../runtime/store/run-fail.ts'
import { Scheduler } from '../../../runtime/scheduler/scheduler.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import type { DagRunRow } from '../../../runtime/store/database.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { bystander, wideMap } from '../../fixtures/dags-runtime/wide-map.dag.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const FILE = 'wide-map.dag.ts'
// Far above any id the tests create, so the process-wide version cache never mixes it up with a real version.
const CORRUPT_VERSION_ID = 999_999

describe.each(STORE_KINDS)('wide maps and runs that cannot be decided, on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, [serializeDag(wideMap, FILE), serializeDag(bystander, FILE)], [])
  })
  afterAll(() => t?.cleanup())

  /** Runs one scheduler until no run is active, or stops it after `limitMs` (a run that never ends). */
  async function schedule(overrides: Partial<ForgeConfig> = {}, limitMs = 60_000): Promise<void> {
    const scheduler = new Scheduler({
      config: testConfig(overrides),
      store: t.store,
      executor: new LocalExecutor({ parallelism: 512, threadWorkers: 2, store: t.store, config: testConfig(overrides) }),
    })
    const stop = setTimeout(() => scheduler.stop(), limitMs)
    try {
      await scheduler.run({ untilIdle: true })
    } finally {
      clearTimeout(stop)
    }
  }

  const runRow = (id: number): Promise<DagRunRow> => t.store.db.selectFrom('dag_run').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const tisOf = (id: number, taskId: string) =>
    t.store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', id).where('task_id', '=', taskId).orderBy('map_index').execute()

  /** Marks an instance succeeded without running it, through the states the transition table allows. */
  const succeedByHand = async (id: number) => {
    for (const state of ['scheduled', 'queued', 'running', 'success'] as const) {
      await t.store.db.updateTable('task_instance').set({ state, try_number: 1 }).where('id', '=', id).execute()
    }
  }

  it('expands a map over 5,000 items into 5,000 scheduled instances (more than one INSERT has bind parameters for)', async () => {
    const run = await triggerRun(t.store.db, 'wide_map', { n: 5000 })
    await t.store.db.updateTable('dag_run').set({ state: 'running' }).where('id', '=', run.id).execute()
    const [plan] = await tisOf(run.id, 'plan')
    await succeedByHand(plan!.id)
    const list = JSON.stringify(Array.from({ length: 5000 }, (_, i) => i))
    await t.store.db
      .insertInto('xcom')
      .values({ task_instance_id: plan!.id, dag_run_id: run.id, task_id: 'plan', map_index: -1, value: list, size_bytes: list.length })
      .execute()
    const decided = await decideTasks(t.store.db, new Set([run.id]), new Date())
    expect(decided.scheduled).toBe(5000)
    const items = await tisOf(run.id, 'item')
    expect(items.map((i) => i.map_index)).toEqual(Array.from({ length: 5000 }, (_, i) => i))
    expect(items.every((i) => i.state === 'scheduled' && i.pool === 'default_pool' && i.max_tries === plan!.max_tries)).toBe(true)
    await failRunIn(t.store.db, run.id, 'expansion checked; not run here')
  }, 120_000)

  // Running 5,000 tasks takes minutes on PGlite on a shared 2-core machine; Postgres runs it in about half a minute.
  it.skipIf(kind !== 'postgres')(
    'runs a map over 5,000 items to the end',
    async () => {
      const run = await triggerRun(t.store.db, 'wide_map', { n: 5000 })
      await schedule()
      const failures = await t.store.db
        .selectFrom('task_instance')
        .select(['task_id', 'map_index', 'reason'])
        .where('dag_run_id', '=', run.id)
        .where('state', '!=', 'success')
        .limit(3)
        .execute()
      expect({ run: await runRow(run.id), failures }).toMatchObject({ run: { state: 'success', reason: null }, failures: [] })
      const items = await tisOf(run.id, 'item')
      expect(items).toHaveLength(5000)
      expect(items.map((i) => i.map_index)).toEqual(Array.from({ length: 5000 }, (_, i) => i))
      expect(items.every((i) => i.state === 'success' && i.try_number === 1)).toBe(true)
      const count = await t.store.db
        .selectFrom('xcom')
        .select('value')
        .where('dag_run_id', '=', run.id)
        .where('task_id', '=', 'count')
        .executeTakeFirstOrThrow()
      expect(count.value).toBe(5000)
    },
    180_000,
  )

  it('fails a map wider than FORGE_MAX_MAP_WIDTH, and its run, saying the width and the limit', async () => {
    const run = await triggerRun(t.store.db, 'wide_map', { n: 6 })
    await schedule({ maxMapWidth: 5 })
    const expected = 'cannot map over plan: 6 items, more than the limit of 5 (FORGE_MAX_MAP_WIDTH)'
    const r = await runRow(run.id)
    expect(r.state).toBe('failed')
    expect(r.reason).toBe(expected)
    expect(await tisOf(run.id, 'item')).toMatchObject([{ map_index: -1, state: 'failed', reason: expected }])
    expect(await tisOf(run.id, 'count')).toMatchObject([{ state: 'removed', try_number: 0 }])
  })

  it('maps over exactly FORGE_MAX_MAP_WIDTH items', async () => {
    const run = await triggerRun(t.store.db, 'wide_map', { n: 5 })
    await schedule({ maxMapWidth: 5 })
    expect(await runRow(run.id)).toMatchObject({ state: 'success', reason: null })
    expect(await tisOf(run.id, 'item')).toHaveLength(5)
  })

  it('fails a run whose DAG version cannot be read, with the reason, while another run succeeds in the same scheduler', async () => {
    const bad = await triggerRun(t.store.db, 'wide_map', { n: 3 })
    await t.store.db
      .insertInto('dag_version')
      .values({
        id: CORRUPT_VERSION_ID,
        dag_id: 'wide_map',
        version_hash: 'corrupt',
        serialized: JSON.stringify({ dag_id: 'wide_map', tasks: 'not a list' }),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute()
    await t.store.db.updateTable('dag_run').set({ dag_version_id: CORRUPT_VERSION_ID }).where('id', '=', bad.id).execute()
    const good = await triggerRun(t.store.db, 'bystander', {})
    await schedule({}, 20_000)
    const r = await runRow(bad.id)
    expect(r.state).toBe('failed')
    expect(r.reason).toMatch(/^could not be decided: .*map is not a function/)
    expect((await tisOf(bad.id, 'plan'))[0]).toMatchObject({ state: 'removed', try_number: 0 })
    expect(await runRow(good.id)).toMatchObject({ state: 'success', reason: null })
  }, 60_000)

  it('fails a run whose expansion hits a database error, while another run succeeds in the same scheduler', async () => {
    const bad = await triggerRun(t.store.db, 'wide_map', { n: 4 })
    // An instance already at map index 2 makes the expansion's insert violate the (run, task, map_index) key.
    await t.store.db
      .insertInto('task_instance')
      .values({
        dag_run_id: bad.id,
        dag_id: 'wide_map',
        run_id: bad.run_id,
        task_id: 'item',
        map_index: 2,
        state: 'scheduled',
        max_tries: 1,
        pool: 'default_pool',
        pool_slots: 1,
        priority_weight: 1,
      })
      .execute()
    const good = await triggerRun(t.store.db, 'bystander', {})
    await schedule({}, 20_000)
    const r = await runRow(bad.id)
    expect(r.state).toBe('failed')
    expect(r.reason).toMatch(/^could not be decided: duplicate key value violates unique constraint/)
    // The expansion was rolled back whole: the placeholder is unexpanded, and nothing of the run is left to claim.
    expect((await tisOf(bad.id, 'item')).map((i) => [i.map_index, i.state])).toEqual([
      [-1, 'removed'],
      [2, 'success'],
    ])
    expect(await runRow(good.id)).toMatchObject({ state: 'success', reason: null })
  }, 60_000)

  it('fails only the run whose instance makes every claim fail, and keeps deciding and claiming the others', async () => {
    const blocked = await triggerRun(t.store.db, 'bystander', {})
    const [first] = await tisOf(blocked.id, 'first')
    // The claim inserts an attempt row for what it claims: refusing that one row makes every claim statement fail.
    await sql
      .raw(
        `create function forge_test_refuse() returns trigger language plpgsql as $$
      begin if new.task_instance_id = ${first!.id} then raise exception 'claim refused on purpose'; end if; return new; end $$`,
      )
      .execute(t.store.db)
    await sql
      .raw('create trigger forge_test_refuse before insert on task_attempt for each row execute function forge_test_refuse()')
      .execute(t.store.db)
    try {
      // A run whose next step is a decision alone: its plan has succeeded, and its map is over the limit.
      const wide = await triggerRun(t.store.db, 'wide_map', { n: 6 })
      const [plan] = await tisOf(wide.id, 'plan')
      await succeedByHand(plan!.id)
      await t.store.db
        .insertInto('xcom')
        .values({ task_instance_id: plan!.id, dag_run_id: wide.id, task_id: 'plan', map_index: -1, value: '[1,2,3,4,5,6]', size_bytes: 13 })
        .execute()
      // A run that needs claims of its own, created after the blocked one so that a claim over all runs meets the
      // refused instance first.
      const other = await triggerRun(t.store.db, 'bystander', {})
      await schedule({ maxMapWidth: 5 }, 20_000)
      expect(await runRow(wide.id)).toMatchObject({ state: 'failed', reason: expect.stringContaining('6 items, more than the limit of 5') })
      expect(await runRow(blocked.id)).toMatchObject({
        state: 'failed',
        reason: expect.stringMatching(/^could not be claimed: .*claim refused on purpose/),
      })
      expect((await tisOf(blocked.id, 'first'))[0]).toMatchObject({ state: 'removed', try_number: 0 })
      expect(await runRow(other.id)).toMatchObject({ state: 'success', reason: null })
    } finally {
      await sql.raw('drop trigger forge_test_refuse on task_attempt').execute(t.store.db)
      await sql.raw('drop function forge_test_refuse()').execute(t.store.db)
    }
  }, 60_000)
})
