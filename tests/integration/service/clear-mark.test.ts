import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { ConflictError, NotFoundError } from '../../../runtime/errors.ts'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { Scheduler } from '../../../runtime/scheduler/scheduler.ts'
import { clearRun, markTask, type ServiceContext } from '../../../runtime/service/index.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { clearInstancesIn } from '../../../runtime/store/task-clear.ts'
import { markInstanceIn } from '../../../runtime/store/task-mark.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { gated, resized, versionOne, versionTwo } from '../../fixtures/dags-runtime/service.dag.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const FILE = 'service.dag.ts'

describe.each(STORE_KINDS)('clearing and marking through the service, on %s', (kind) => {
  let t: TestStore
  let ctx: ServiceContext
  const dir = mkdtempSync(join(tmpdir(), 'forge-svc-'))
  beforeAll(async () => {
    t = await openTestStore(kind)
    ctx = { db: t.store.db, config: testConfig() }
    await syncDags(t.store.db, [serializeDag(gated, FILE), serializeDag(resized, FILE), serializeDag(versionOne, FILE)], [])
  })
  afterAll(() => t?.cleanup())

  async function schedule(): Promise<void> {
    const scheduler = new Scheduler({
      config: testConfig(),
      store: t.store,
      executor: new LocalExecutor({ parallelism: 8, threadWorkers: 2, store: t.store, config: testConfig() }),
    })
    const stop = setTimeout(() => scheduler.stop(), 60_000)
    try {
      await scheduler.run({ untilIdle: true })
    } finally {
      clearTimeout(stop)
    }
  }
  const runState = async (id: number) =>
    await t.store.db.selectFrom('dag_run').select(['state', 'dag_version_id']).where('id', '=', id).executeTakeFirstOrThrow()
  const states = async (id: number) =>
    (
      await t.store.db
        .selectFrom('task_instance')
        .select(['task_id', 'map_index', 'state', 'try_number'])
        .where('dag_run_id', '=', id)
        .orderBy('task_id')
        .orderBy('map_index')
        .execute()
    ).map((r) => `${r.task_id}${r.map_index >= 0 ? `[${r.map_index}]` : ''}:${r.state ?? 'none'}:${r.try_number}`)
  const attempts = async (id: number, task: string) =>
    (
      await t.store.db
        .selectFrom('task_attempt as a')
        .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
        .select(['a.try_number', 'a.state'])
        .where('ti.dag_run_id', '=', id)
        .where('ti.task_id', '=', task)
        .orderBy('a.try_number')
        .execute()
    ).map((a) => `${a.try_number}:${a.state}`)

  /** A finished svc_gated run whose b failed (its gate file missing) and whose c is therefore upstream_failed. */
  async function failedGatedRun(name: string) {
    const gate = join(dir, name)
    const run = await triggerRun(t.store.db, 'svc_gated', { gate })
    await schedule()
    expect(await states(run.id)).toEqual(['a:success:1', 'b:failed:1', 'c:upstream_failed:0'])
    expect((await runState(run.id)).state).toBe('failed')
    return { run, gate }
  }

  it('clears a task with its downstream: they run again as try 2 and the finished run is decided again', async () => {
    const { run, gate } = await failedGatedRun('gate-1')
    writeFileSync(gate, '')
    const r = await clearRun(ctx, run.run_id, { taskId: 'b', downstream: true })
    expect(r).toMatchObject({ cleared: 2, removed: 0, created: 0, runState: 'queued', version: null })
    expect(await states(run.id)).toEqual(['a:success:1', 'b:none:1', 'c:none:0'])
    await schedule()
    expect(await states(run.id)).toEqual(['a:success:1', 'b:success:2', 'c:success:1'])
    expect((await runState(run.id)).state).toBe('success')
    expect(await attempts(run.id, 'b')).toEqual(['1:failed', '2:success'])
  }, 120_000)

  it('clears a task without its downstream: the downstream keeps its verdict, so the run fails again by its leaf', async () => {
    const { run, gate } = await failedGatedRun('gate-2')
    writeFileSync(gate, '')
    expect(await clearRun(ctx, run.run_id, { taskId: 'b' })).toMatchObject({ cleared: 1, runState: 'queued' })
    await schedule()
    expect(await states(run.id)).toEqual(['a:success:1', 'b:success:2', 'c:upstream_failed:0'])
    expect((await runState(run.id)).state).toBe('failed')
  }, 120_000)

  it('clears a whole run: every task runs again', async () => {
    const { run, gate } = await failedGatedRun('gate-3')
    writeFileSync(gate, '')
    expect(await clearRun(ctx, run.run_id)).toMatchObject({ cleared: 3, runState: 'queued' })
    await schedule()
    expect(await states(run.id)).toEqual(['a:success:2', 'b:success:2', 'c:success:1'])
  }, 120_000)

  it('marks a failed task success: its upstream_failed downstream is decided again and runs', async () => {
    const { run } = await failedGatedRun('gate-4')
    const r = await markTask(ctx, run.run_id, 'b', 'success')
    expect(r).toEqual({ changed: true, redecided: ['c'], runState: 'queued' })
    expect(await states(run.id)).toEqual(['a:success:1', 'b:success:1', 'c:none:0'])
    await schedule()
    // c reads b's result, which a task marked by hand does not have: c gets undefined (as in Airflow), so NaN.
    expect(await states(run.id)).toEqual(['a:success:1', 'b:success:1', 'c:success:1'])
    expect((await runState(run.id)).state).toBe('success')
    expect(await markTask(ctx, run.run_id, 'b', 'success')).toMatchObject({ changed: false })
  }, 120_000)

  it('marks a leaf failed: the run is decided again and fails', async () => {
    const { run, gate } = await failedGatedRun('gate-5')
    writeFileSync(gate, '')
    await clearRun(ctx, run.run_id, { taskId: 'b', downstream: true })
    await schedule()
    expect((await runState(run.id)).state).toBe('success')
    expect(await markTask(ctx, run.run_id, 'c', 'failed')).toEqual({ changed: true, redecided: [], runState: 'queued' })
    await schedule()
    expect((await runState(run.id)).state).toBe('failed')
    expect(await states(run.id)).toEqual(['a:success:1', 'b:success:2', 'c:failed:1'])
  }, 120_000)

  it('refuses to clear or mark an instance an attempt holds, and names what is missing', async () => {
    const run = await triggerRun(t.store.db, 'svc_gated', { gate: join(dir, 'gate-6') })
    await startQueuedRuns(t.store.db)
    await decideTasks(t.store.db, new Set([run.id]), new Date(), run.id)
    expect(await claimTasks(t.store.db, 'service-test', 10, run.id)).toHaveLength(1)
    await expect(clearRun(ctx, run.run_id)).rejects.toThrow(ConflictError)
    await expect(clearRun(ctx, run.run_id)).rejects.toThrow(/a \(queued\): wait until it finishes/)
    await expect(markTask(ctx, run.run_id, 'a', 'success')).rejects.toThrow(/it is queued/)
    // The statements are guarded too, for a scheduler that claims between the service's check and its write.
    const held = await t.store.db
      .selectFrom('task_instance')
      .selectAll()
      .where('dag_run_id', '=', run.id)
      .where('task_id', '=', 'a')
      .executeTakeFirstOrThrow()
    expect(await t.store.db.transaction().execute((trx) => markInstanceIn(trx, held.id, 'success', 'by hand'))).toBe(false)
    expect(
      await t.store.db
        .transaction()
        .execute((trx) => clearInstancesIn(trx, [{ id: held.id, mapIndex: -1, task: serializeDag(gated, FILE).tasks[0]! }])),
    ).toBe(0)
    // b is not held: clearing it alone is fine (nothing to clear), and marking it is allowed.
    expect(await clearRun(ctx, run.run_id, { taskId: 'b' })).toMatchObject({ cleared: 0 })
    await expect(clearRun(ctx, 'no_such_run')).rejects.toThrow(NotFoundError)
    await expect(clearRun(ctx, run.run_id, { taskId: 'zzz' })).rejects.toThrow(/no task "zzz" in DAG "svc_gated"/)
    await expect(markTask(ctx, run.run_id, 'zzz', 'failed')).rejects.toThrow(NotFoundError)
    await expect(markTask(ctx, run.run_id, 'a', 'failed', 2)).rejects.toThrow(/it is not mapped: leave --map-index out/)
    // Let the held attempt go, so the other tests' schedulers do not wait for it: the reaper's path, by hand.
    await t.store.db.updateTable('dag_run').set({ state: 'failed' }).where('id', '=', run.id).execute()
  }, 120_000)

  it('re-expands a cleared map over a shorter list (the excess instances are removed) and a longer one (they come back)', async () => {
    const count = join(dir, 'count')
    writeFileSync(count, '3')
    const run = await triggerRun(t.store.db, 'svc_resized', { count })
    await schedule()
    expect(await states(run.id)).toEqual(['plan:success:1', 'square[0]:success:1', 'square[1]:success:1', 'square[2]:success:1', 'total:success:1'])
    writeFileSync(count, '1')
    expect(await clearRun(ctx, run.run_id, { taskId: 'plan', downstream: true })).toMatchObject({ cleared: 5 })
    expect(await states(run.id)).toEqual(['plan:none:1', 'square:none:1', 'square[1]:none:1', 'square[2]:none:1', 'total:none:1'])
    await schedule()
    expect(await states(run.id)).toEqual(['plan:success:2', 'square[0]:success:2', 'square[1]:removed:1', 'square[2]:removed:1', 'total:success:2'])
    const total = async () =>
      (await t.store.db.selectFrom('xcom').select('value').where('dag_run_id', '=', run.id).where('task_id', '=', 'total').executeTakeFirstOrThrow())
        .value
    expect(await total()).toBe(1)
    expect((await runState(run.id)).state).toBe('success')
    writeFileSync(count, '4')
    await clearRun(ctx, run.run_id)
    await schedule()
    expect(await states(run.id)).toEqual([
      'plan:success:3',
      'square[0]:success:3',
      'square[1]:success:2',
      'square[2]:success:2',
      'square[3]:success:1',
      'total:success:3',
    ])
    expect(await total()).toBe(1 + 4 + 9 + 16)
    expect(await attempts(run.id, 'square')).toEqual([
      '1:success',
      '1:success',
      '1:success',
      '1:success',
      '2:success',
      '2:success',
      '2:success',
      '3:success',
    ])
  }, 180_000)

  it("moves a cleared run to the DAG's latest version: a dropped task's instance is removed, a new task gets one", async () => {
    const run = await triggerRun(t.store.db, 'svc_versions', {})
    await schedule()
    expect(await states(run.id)).toEqual(['a:success:1', 'old:success:1'])
    const before = (await runState(run.id)).dag_version_id
    await syncDags(t.store.db, [serializeDag(versionTwo, FILE)], [])
    const r = await clearRun(ctx, run.run_id, { taskId: 'a' })
    expect(r).toMatchObject({ cleared: 1, removed: 1, created: 1, runState: 'queued', version: { from: before } })
    expect(await states(run.id)).toEqual(['a:none:1', 'new:none:0', 'old:removed:1'])
    const a = await t.store.db
      .selectFrom('task_instance')
      .select(['executor', 'executor_config'])
      .where('dag_run_id', '=', run.id)
      .where('task_id', '=', 'a')
      .executeTakeFirstOrThrow()
    expect(a).toEqual({ executor: 'local', executor_config: { note: 'v2' } })
    await schedule()
    expect(await states(run.id)).toEqual(['a:success:2', 'new:success:1', 'old:removed:1'])
    expect((await runState(run.id)).dag_version_id).toBe(r.version!.to)
  }, 120_000)
})
