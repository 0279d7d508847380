import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttemptSpec } from '../../../runtime/executors/executor.ts'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { Scheduler, type SchedulerEvent } from '../../../runtime/scheduler/scheduler.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { FakeExecutor, FakeWorld, type FakePlan } from '../../helpers/fake-executor.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

// The tasks never run (the fake executors run nothing): only their shape and executor matter.
const dags = [
  // A chain across executors, and a DAG default that one task overrides.
  defineDag({ id: 'routed_chain' }, (d) => {
    const prep = d.task('prep', () => 1)
    const sim = d.task('sim', () => 2, { after: [prep], executor: 'kubernetes', executorConfig: { gpus: 1 } })
    d.task('report', () => 3, { after: [sim] })
  }),
  defineDag({ id: 'routed_defaults', defaults: { executor: 'kubernetes' } }, (d) => {
    d.task('on_k8s', () => 1)
    d.task('on_local', () => 2, { executor: 'local' })
  }),
  // Local tasks come first in priority: a claim that ignored executors would take them for Kubernetes too.
  defineDag({ id: 'one_executor_full' }, (d) => {
    for (let i = 0; i < 3; i++) d.task(`l${i}`, () => i, { priority: 10 })
    for (let i = 0; i < 3; i++) d.task(`k${i}`, () => i, { priority: 1, executor: 'kubernetes' })
  }),
  defineDag({ id: 'outliving_k8s' }, (d) => {
    d.task('plain', () => 1)
    d.task('gpu', () => 2, { executor: 'kubernetes' })
  }),
  defineDag({ id: 'needs_k8s' }, (d) => {
    d.task('plain', () => 1)
    const gpu = d.task('gpu', () => 2, { executor: 'kubernetes' })
    d.task('after_gpu', () => 3, { after: [gpu] })
  }),
].map((d) => serializeDag(d, 'executor-routing.dag.ts'))

const until = async (what: string, check: () => Promise<boolean>) => {
  for (let i = 0; i < 600; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`gave up waiting for ${what}`)
}

describe.each(STORE_KINDS)('one scheduler, several executors, on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, dags, [])
  })
  afterAll(() => t?.cleanup())

  const instances = (runPk: number) => t.store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', runPk).orderBy('task_id').execute()
  const runState = async (runPk: number) =>
    (await t.store.db.selectFrom('dag_run').select('state').where('id', '=', runPk).executeTakeFirstOrThrow()).state

  /** A fake executor under `name` that records the tasks it was handed. */
  function fake(name: string, plan: (spec: AttemptSpec) => FakePlan = () => ({ do: 'succeed' }), slots = 8) {
    const tasks: string[] = []
    const executor = new FakeExecutor((spec) => (tasks.push(spec.taskId), plan(spec)), new FakeWorld(), slots, name)
    return { executor, tasks }
  }

  it('launches each task on the executor it names, the DAG default and the scheduler default included', async () => {
    const local = { tasks: [] as string[] }
    const k8s = { tasks: [] as string[] }
    for (const dagId of ['routed_chain', 'routed_defaults']) {
      // Fresh executors per scheduler: a scheduler closes its executors when it stops.
      const l = fake('local')
      const k = fake('kubernetes')
      const run = await triggerRun(t.store.db, dagId, {})
      await new Scheduler({ config: testConfig(), store: t.store, executor: l.executor, executors: [k.executor], onlyRunPk: run.id }).run()
      expect(await runState(run.id)).toBe('success')
      local.tasks.push(...l.tasks)
      k8s.tasks.push(...k.tasks)
    }
    expect(local.tasks.sort()).toEqual(['on_local', 'prep', 'report'])
    expect(k8s.tasks.sort()).toEqual(['on_k8s', 'sim'])
    // The executor's name and settings are on each instance; a task naming none keeps null (the default executor).
    const chain = await t.store.db
      .selectFrom('task_instance')
      .select(['task_id', 'executor', 'executor_config'])
      .where('dag_id', '=', 'routed_chain')
      .execute()
    expect(Object.fromEntries(chain.map((r) => [r.task_id, [r.executor, r.executor_config]]))).toEqual({
      prep: [null, {}],
      sim: ['kubernetes', { gpus: 1 }],
      report: [null, {}],
    })
  })

  it("claims for each executor only what it can start: a full executor does not hold up the other's tasks", async () => {
    // The local executor has one slot, and its attempts run until the test ends them.
    const local = fake('local', () => ({ do: 'succeed', afterMs: 600_000 }), 1)
    const k8s = fake('kubernetes', () => ({ do: 'succeed' }), 3)
    const run = await triggerRun(t.store.db, 'one_executor_full', {})
    const done = new Scheduler({ config: testConfig(), store: t.store, executor: local.executor, executors: [k8s.executor], onlyRunPk: run.id }).run()
    const byId = async () => new Map((await instances(run.id)).map((ti) => [ti.task_id, ti]))
    await until('the Kubernetes tasks to succeed', async () => {
      const now = await byId()
      return ['k0', 'k1', 'k2'].every((id) => now.get(id)?.state === 'success')
    })
    const now = await byId()
    expect(['k0', 'k1', 'k2'].map((id) => now.get(id)!.state)).toEqual(['success', 'success', 'success'])
    // Meanwhile the local executor was handed one task, never more than its one slot.
    expect(local.tasks).toHaveLength(1)
    expect(local.executor.maxRunning).toBe(1)
    expect(['l0', 'l1', 'l2'].filter((id) => now.get(id)!.state === 'scheduled')).toHaveLength(2)
    // Let the local tasks finish one at a time.
    const ended = new Set<string>()
    while ((await runState(run.id)) === 'running') {
      for (const key of local.executor.launched) if (!ended.has(key)) (local.executor.end(key, { ok: true, result: null }), ended.add(key))
      await new Promise((r) => setTimeout(r, 50))
    }
    await done
    expect(await runState(run.id)).toBe('success')
    expect(local.tasks.sort()).toEqual(['l0', 'l1', 'l2'])
    expect(k8s.tasks.sort()).toEqual(['k0', 'k1', 'k2'])
    expect(local.executor.maxRunning).toBe(1)
  })

  it('leaves a task naming an executor the scheduler lacks waiting, says why naming the DAG, task and executor, and runs the rest', async () => {
    const local = fake('local')
    const events: SchedulerEvent[] = []
    const run = await triggerRun(t.store.db, 'needs_k8s', {})
    const scheduler = new Scheduler({
      config: testConfig(),
      store: t.store,
      executor: local.executor,
      onlyRunPk: run.id,
      onEvent: (e) => events.push(e),
    })
    const done = scheduler.run()
    const byId = async () => new Map((await instances(run.id)).map((ti) => [ti.task_id, ti]))
    await until('plain to succeed and gpu to say why it waits', async () => {
      const now = await byId()
      return now.get('plain')?.state === 'success' && now.get('gpu')?.reason != null
    })
    // A few more reaper passes: the reason is set once and reported once.
    await new Promise((r) => setTimeout(r, 1500))
    scheduler.stop()
    await done
    const now = await byId()
    const expected = new RegExp(
      `^waiting: task "gpu" of DAG "needs_k8s" names executor "kubernetes", which scheduler ${scheduler.id} does not run \\(it runs local\\); ` +
        'configure that executor on a scheduler \\(kubernetes: FORGE_K8S_IMAGE\\)',
    )
    expect(now.get('gpu')).toMatchObject({ state: 'scheduled', try_number: 0 })
    expect(now.get('gpu')!.reason).toMatch(expected)
    expect(now.get('after_gpu')!.state).toBeNull()
    expect(now.get('plain')!.state).toBe('success')
    expect(local.tasks).toEqual(['plain'])
    const reported = events.flatMap((e) => (e.type === 'scheduler:error' && expected.test(e.error.message) ? [e.error.message] : []))
    expect(reported).toEqual([now.get('gpu')!.reason])
  })

  it('a scheduler that runs the executor later claims the waiting task, and the reason goes', async () => {
    const run = (await t.store.db.selectFrom('dag_run').select('id').where('dag_id', '=', 'needs_k8s').executeTakeFirstOrThrow()).id
    const local = fake('local')
    const k8s = fake('kubernetes')
    await new Scheduler({ config: testConfig(), store: t.store, executor: local.executor, executors: [k8s.executor], onlyRunPk: run }).run()
    expect(await runState(run)).toBe('success')
    expect(k8s.tasks).toEqual(['gpu'])
    const gpu = (await instances(run)).find((ti) => ti.task_id === 'gpu')!
    expect(gpu).toMatchObject({ state: 'success', reason: null, try_number: 1 })
  })

  it('leaves an orphan to a scheduler that runs its executor: one without it neither ends nor relaunches it', async () => {
    // No heartbeat timeout within the test: only the schedulers' liveness locks decide who is an orphan.
    const config = testConfig({ heartbeatTimeoutMs: 120_000 })
    const world = new FakeWorld()
    const outlive = (): FakePlan => ({ do: 'outlive', afterMs: 200, result: 'from the Job' })
    const run = await triggerRun(t.store.db, 'outliving_k8s', {})
    const on = (executor: FakeExecutor, executors: FakeExecutor[] = []) =>
      new Scheduler({ config, store: t.store, executor, executors, onlyRunPk: run.id })
    // The first scheduler starts the Kubernetes attempt and stops; the attempt runs on without it.
    const first = on(fake('local').executor, [new FakeExecutor(outlive, world, 8, 'kubernetes')])
    const firstDone = first.run()
    await until('the Kubernetes attempt to start', async () => world.launches.length === 1)
    first.stop()
    await firstDone
    // A scheduler without the Kubernetes executor reaps for a while (every 200 ms) and must keep its hands off.
    const bystander = on(fake('local').executor)
    const bystanderDone = bystander.run()
    await new Promise((r) => setTimeout(r, 1000))
    bystander.stop()
    await bystanderDone
    const gpu = async () => (await instances(run.id)).find((ti) => ti.task_id === 'gpu')!
    expect(await gpu()).toMatchObject({ try_number: 1, infra_failures: 0, state: expect.stringMatching(/^(queued|running)$/) })
    // A scheduler with it adopts the attempt and records its result, once.
    await on(fake('local').executor, [new FakeExecutor(outlive, world, 8, 'kubernetes')]).run()
    expect(await runState(run.id)).toBe('success')
    expect(await gpu()).toMatchObject({ state: 'success', try_number: 1, infra_failures: 0 })
    expect(world.launches).toHaveLength(1)
  })

  it('refuses two executors under one name', () => {
    expect(
      () => new Scheduler({ config: testConfig(), store: t.store, executor: fake('local').executor, executors: [fake('local').executor] }),
    ).toThrow(/two executors are named "local"/)
  })
})
