import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { NotFoundError } from '../../../runtime/errors.ts'
import { createDueRuns } from '../../../runtime/scheduler/create-runs.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { setPaused, type ServiceContext } from '../../../runtime/service/index.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { countActiveRuns } from '../../../runtime/store/run.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { daily, gated } from '../../fixtures/dags-runtime/service.dag.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

describe.each(STORE_KINDS)('pausing a DAG through the service, on %s', (kind) => {
  let t: TestStore
  let ctx: ServiceContext
  beforeAll(async () => {
    t = await openTestStore(kind)
    ctx = { db: t.store.db, config: testConfig() }
    await syncDags(t.store.db, [serializeDag(gated, 'service.dag.ts'), serializeDag(daily, 'service.dag.ts')], [])
  })
  afterAll(() => t?.cleanup())

  const stateOf = async (runPk: number) =>
    (await t.store.db.selectFrom('dag_run').select('state').where('id', '=', runPk).executeTakeFirstOrThrow()).state
  const tiState = async (runPk: number, task: string) =>
    (
      await t.store.db
        .selectFrom('task_instance')
        .select('state')
        .where('dag_run_id', '=', runPk)
        .where('task_id', '=', task)
        .executeTakeFirstOrThrow()
    ).state

  it("keeps a paused DAG's manual run queued, as Airflow does, until the DAG is unpaused", async () => {
    expect(await setPaused(ctx, 'svc_gated', true)).toEqual({ changed: true })
    expect(await setPaused(ctx, 'svc_gated', true)).toEqual({ changed: false })
    const run = await triggerRun(t.store.db, 'svc_gated', { gate: '/nonexistent' })
    expect(await startQueuedRuns(t.store.db)).toBe(0)
    expect(await stateOf(run.id)).toBe('queued')
    // Nothing can move while the DAG is paused: a scheduler with --until-idle need not wait for it.
    expect(await countActiveRuns(t.store.db)).toBe(0)
    expect(await setPaused(ctx, 'svc_gated', false)).toEqual({ changed: true })
    expect(await countActiveRuns(t.store.db)).toBe(1)
    expect(await startQueuedRuns(t.store.db)).toBe(1)
    expect(await stateOf(run.id)).toBe('running')
  }, 60_000)

  it("decides no task of a paused DAG's running run until it is unpaused", async () => {
    const run = await triggerRun(t.store.db, 'svc_gated', { gate: '/nonexistent' })
    await startQueuedRuns(t.store.db)
    await setPaused(ctx, 'svc_gated', true)
    await decideTasks(t.store.db, new Set([run.id]), new Date(), run.id)
    expect(await tiState(run.id, 'a')).toBeNull()
    await setPaused(ctx, 'svc_gated', false)
    await decideTasks(t.store.db, new Set([run.id]), new Date(), run.id)
    expect(await tiState(run.id, 'a')).toBe('scheduled')
  }, 60_000)

  it('creates no scheduled run of a paused DAG', async () => {
    await setPaused(ctx, 'svc_daily', true)
    expect(await createDueRuns(t.store.db, new Date())).toBe(0)
    await setPaused(ctx, 'svc_daily', false)
    expect(await createDueRuns(t.store.db, new Date())).toBe(1)
  })

  it('names a DAG it does not know', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'forge-no-dags-'))
    await expect(setPaused({ db: t.store.db, config: testConfig({ dagsFolder: empty }) }, 'no_such_dag', true)).rejects.toThrow(NotFoundError)
  }, 60_000)
})
