import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { Scheduler } from '../../../runtime/scheduler/scheduler.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { FakeExecutor, FakeWorld, type FakePlan } from '../../helpers/fake-executor.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

// The tasks never run (the fake executor runs nothing): only their shape matters.
const pair = serializeDag(
  defineDag({ id: 'fake_pair', defaults: { retries: 1, retryDelay: '200ms' } }, (d) => {
    const a = d.task('a', () => 1)
    d.task('b', () => 2, { after: [a] })
  }),
  'fake-pair.dag.ts',
)

describe.each(STORE_KINDS)('attempts an executor loses or that outlive their scheduler, on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, [pair], [])
  })
  afterAll(() => t?.cleanup())

  const instances = (runPk: number) => t.store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', runPk).orderBy('task_id').execute()
  const attemptsOf = (tiId: number) =>
    t.store.db.selectFrom('task_attempt').selectAll().where('task_instance_id', '=', tiId).orderBy('try_number').execute()

  function schedulerOn(runPk: number, executor: FakeExecutor) {
    return new Scheduler({ config: testConfig(), store: t.store, executor, onlyRunPk: runPk })
  }

  it('retries a lost attempt as an infrastructure failure, leaving the task its own retries', async () => {
    const run = await triggerRun(t.store.db, 'fake_pair', {})
    const seen = new Set<string>()
    // The first launch of each task is lost without a word; the next one succeeds.
    const executor = new FakeExecutor((spec): FakePlan =>
      seen.has(spec.taskId) ? { do: 'succeed', result: spec.taskId } : (seen.add(spec.taskId), { do: 'lose' }),
    )
    await schedulerOn(run.id, executor).run()
    const [a, b] = await instances(run.id)
    const state = await t.store.db.selectFrom('dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()
    expect(state.state).toBe('success')
    for (const ti of [a!, b!]) {
      // Two tries ran, and the task still has both of its own tries (retries: 1) to spend: the loss cost none.
      expect(ti).toMatchObject({ state: 'success', try_number: 2, max_tries: 3, infra_failures: 1 })
      const attempts = await attemptsOf(ti.id)
      expect(attempts.map((x) => x.state)).toEqual(['up_for_retry', 'success'])
      expect(attempts[0]).toMatchObject({
        failure_class: 'infrastructure',
        reason: 'infrastructure: the fake executor lost the attempt; retrying, infrastructure retry 1 of 3',
      })
    }
  })

  it('leaves an attempt that outlives its scheduler to the next one, which adopts it and records it once', async () => {
    const run = await triggerRun(t.store.db, 'fake_pair', {})
    const world = new FakeWorld()
    const plan = (spec: { taskId: string }): FakePlan =>
      spec.taskId === 'a' ? { do: 'outlive', afterMs: 1500, result: 'from a' } : { do: 'succeed', result: 'b' }
    const first = schedulerOn(run.id, new FakeExecutor(plan, world))
    const firstDone = first.run()
    while (world.launches.length === 0) await new Promise((r) => setTimeout(r, 20))
    first.stop()
    await firstDone
    // The first scheduler is gone and its attempt still runs.
    expect((await instances(run.id))[0]!.state).toMatch(/queued|running/)
    expect(world.running.has(world.launches[0]!)).toBe(true)
    const second = new FakeExecutor(plan, world)
    await schedulerOn(run.id, second).run()
    const [a, b] = await instances(run.id)
    expect(a).toMatchObject({ state: 'success', try_number: 1 })
    expect(b).toMatchObject({ state: 'success', try_number: 1 })
    expect(await attemptsOf(a!.id)).toEqual([expect.objectContaining({ state: 'success', try_number: 1 })])
    const xcom = await t.store.db.selectFrom('xcom').select('value').where('task_instance_id', '=', a!.id).execute()
    expect(xcom.map((x) => x.value)).toEqual(['from a'])
    // Launched once by the first executor, never again: the second adopted it.
    expect(world.launches.filter((k) => k.startsWith(`${a!.id}:`))).toHaveLength(1)
  })

  it('leaves alone the attempts of a scheduler that is alive, however long they run', async () => {
    const run = await triggerRun(t.store.db, 'fake_pair', {})
    const world = new FakeWorld()
    const first = schedulerOn(
      run.id,
      new FakeExecutor((spec) => (spec.taskId === 'a' ? { do: 'succeed', afterMs: 3000, result: 'a' } : { do: 'succeed' }), world),
    )
    // Until idle: only the scheduler that decides the run's end hears of it.
    const firstDone = first.run({ untilIdle: true })
    while (world.launches.length === 0) await new Promise((r) => setTimeout(r, 20))
    // A second scheduler on the same run, whose executor knows nothing of the first one's attempt: its reaper must
    // see the first scheduler alive and keep its hands off.
    const second = schedulerOn(run.id, new FakeExecutor(() => ({ do: 'succeed' }), world))
    await Promise.all([firstDone, second.run({ untilIdle: true })])
    const [a] = await instances(run.id)
    expect(a).toMatchObject({ state: 'success', try_number: 1, infra_failures: 0 })
    expect(await attemptsOf(a!.id)).toEqual([expect.objectContaining({ state: 'success', try_number: 1 })])
  })
})
