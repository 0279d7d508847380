import { wholeLog } from '../../../runtime/store/attempt-log.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as dags from '../../fixtures/dags-runtime/behaviours.dag.ts'
import { runDagOnce } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const FILE = 'behaviours.dag.ts'

describe.each(STORE_KINDS)('task lifecycle on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())

  it('retries a failed attempt after its delay: up_for_retry -> scheduled -> success on try 2', async () => {
    const r = await runDagOnce(t.store, dags.retryThenSucceed, FILE)
    expect(r.run.state).toBe('success')
    expect(r.ti('flaky')).toMatchObject({ state: 'success', try_number: 2 })
    expect(await r.xcom('flaky')).toEqual({ tryNumber: 2 })
    const attempts = await t.store.db
      .selectFrom('task_attempt')
      .selectAll()
      .where('task_instance_id', '=', r.ti('flaky').id)
      .orderBy('try_number')
      .execute()
    expect(attempts.map((a) => a.state)).toEqual(['up_for_retry', 'success'])
    expect(attempts[0]!.reason).toContain('first attempt fails on purpose')
    expect(attempts[1]!.start_date.getTime() - attempts[0]!.end_date!.getTime()).toBeGreaterThanOrEqual(90)
  })

  it('reports a process attempt its runner recorded as it ended: the failed try as failed, with its reason', async () => {
    const r = await runDagOnce(t.store, dags.processRetry, FILE)
    expect(r.run.state).toBe('success')
    const ends = r.events.flatMap((e) => (e.type === 'attempt:finished' ? [[e.spec.tryNumber, e.ok, e.reason]] : []))
    expect(ends).toEqual([
      [1, false, expect.stringContaining('the process attempt fails on purpose')],
      [2, true, null],
    ])
  })

  it('fails a non-retryable failure at once, skipping the remaining retries', async () => {
    const r = await runDagOnce(t.store, dags.nonRetryable, FILE)
    expect(r.run.state).toBe('failed')
    expect(r.ti('bad_input')).toMatchObject({ state: 'failed', try_number: 1, max_tries: 4 })
    expect(r.ti('bad_input').reason).toContain('scenario file is malformed')
  })

  it('kills an attempt that outlives its timeout and says so', async () => {
    const r = await runDagOnce(t.store, dags.timesOut, FILE)
    expect(r.run.state).toBe('failed')
    for (const id of ['sleepy_process', 'sleepy_thread']) {
      expect(r.ti(id).state).toBe('failed')
      expect(r.ti(id).reason).toBe('timed out after 400ms')
    }
  })

  it('rejects an XCom over the size cap with a message naming the cap, without retrying', async () => {
    const r = await runDagOnce(t.store, dags.bigXcom, FILE)
    expect(r.ti('too_big')).toMatchObject({ state: 'failed', try_number: 1 })
    expect(r.ti('too_big').reason).toMatch(/2\.00 MiB; XCom values are capped at 1\.00 MiB \(FORGE_XCOM_MAX_BYTES\)/)
    expect(await r.xcom('too_big')).toBeUndefined()
  })

  it('maps over an upstream list at run time and hands the results downstream in order', async () => {
    const r = await runDagOnce(t.store, dags.mapped, FILE, { n: 4 })
    expect(r.run.state).toBe('success')
    expect(r.tis.filter((x) => x.task_id === 'square').map((x) => [x.map_index, x.state])).toEqual([
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
      [3, 'success'],
    ])
    expect(await r.xcom('square', 2)).toBe(9)
    expect(await r.xcom('total')).toBe(1 + 4 + 9 + 16)
  })

  it('skips a mapped task whose list is empty, and its downstream', async () => {
    const r = await runDagOnce(t.store, dags.mapped, FILE, { n: 0 })
    expect(r.ti('square')).toMatchObject({ state: 'skipped', reason: 'mapped over an empty list' })
    expect(r.ti('total').state).toBe('skipped')
    expect(r.run.state).toBe('success')
  })

  it('never runs more instances of a pool at once than it has slots', async () => {
    await t.store.db
      .insertInto('pool')
      .values({ name: 'one_slot', slots: 1 })
      .onConflict((oc) => oc.doNothing())
      .execute()
    const r = await runDagOnce(t.store, dags.pooled, FILE)
    expect(r.run.state).toBe('success')
    const spans = (await Promise.all(['p1', 'p2', 'p3'].map((id) => r.xcom(id)))) as Array<{ start: number; end: number }>
    spans.sort((a, b) => a.start - b.start)
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end)
  })

  it('propagates upstream_failed, runs the all_done cleanup, and judges the run by its leaves', async () => {
    const r = await runDagOnce(t.store, dags.cleanupAfterFailure, FILE)
    expect(r.ti('fails').state).toBe('failed')
    expect(r.ti('never_runs')).toMatchObject({ state: 'upstream_failed', try_number: 0 })
    expect(r.ti('cleanup').state).toBe('success')
    // never_runs is not a leaf (cleanup follows it) and cleanup succeeded: Airflow calls such a run a success.
    expect(r.run.state).toBe('success')
  })

  it('runs process and shell tasks, passing results as inputs and capturing logs', async () => {
    const r = await runDagOnce(t.store, dags.shellAndProcess, FILE, { word: 'frame' })
    expect(r.run.state).toBe('success')
    expect(await r.xcom('echo')).toBe('FRAME-done')
    const log = await t.store.db
      .selectFrom('task_attempt')
      .select(wholeLog('task_attempt').as('log'))
      .where('task_instance_id', '=', r.ti('echo').id)
      .executeTakeFirstOrThrow()
    expect(log.log).toContain('got FRAME')
    const upperLog = await t.store.db
      .selectFrom('task_attempt')
      .select(wholeLog('task_attempt').as('log'))
      .where('task_instance_id', '=', r.ti('upper').id)
      .executeTakeFirstOrThrow()
    expect(upperLog.log).toContain('upper-casing {"word":"frame"}')
    expect(r.ti('upper').executor_id).toMatch(/^local:\d+:\d+$/)
  })

  it('records every line a process or shell task printed before its result, however fast the result arrives', async () => {
    const r = await runDagOnce(t.store, dags.chattyProcess, FILE)
    expect(r.run.state).toBe('success')
    const logOf = async (task: string) =>
      (
        await t.store.db
          .selectFrom('task_attempt')
          .select(wholeLog('task_attempt').as('log'))
          .where('task_instance_id', '=', r.ti(task).id)
          .executeTakeFirstOrThrow()
      ).log ?? ''
    const fn = await logOf('chatty')
    expect(fn).toContain("line 19999 of the chatty task's output")
    expect(fn.split('\n').filter((l) => l.startsWith('line ')).length).toBe(20_000)
    expect(await logOf('chatty_shell')).toContain('shell line 4999\nlast')
  })
})
