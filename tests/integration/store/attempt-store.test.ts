import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { beginAttempt } from '../../../runtime/store/attempt-begin.ts'
import { loadAttempt } from '../../../runtime/store/attempt-load.ts'
import {
  STORE_NUMBERED_SEQ,
  appendExecutorNote,
  appendLogChunks,
  lastLogSeq,
  readLogChunks,
  readNewLogChunks,
} from '../../../runtime/store/attempt-log.ts'
import { recordOutcome, toFinished, type AttemptOutcome } from '../../../runtime/store/attempt-outcome.ts'
import { recordEvents } from '../../../runtime/store/attempt-record.ts'
import { heartbeat, heartbeatAttempt } from '../../../runtime/store/attempt-heartbeat.ts'
import { takeOver, type OrphanRow } from '../../../runtime/store/orphans.ts'
import type { Db } from '../../../runtime/store/database.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { INFRA_RETRY_DELAY_MS } from '../../../runtime/model/failure.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'
import { attemptRows, claimAttempts } from '../worker/helpers.ts'

const chain = defineDag({ id: 'attempt_store_chain' }, (d) => {
  const first = d.task('first', () => 1)
  d.task('next', { inputs: { x: first.out }, run: ({ inputs }) => inputs.x })
})
const work = defineDag({ id: 'attempt_store', defaults: { retries: 1, retryDelay: 0, infraRetries: 2 } }, (d) => void d.task('work', () => 1))
// A task whose own retries wait an hour: an infrastructure retry must not.
const patient = defineDag(
  { id: 'attempt_store_patient', defaults: { retries: 2, retryDelay: '1h', retryBackoff: 'exponential', retryMaxDelay: '4h', infraRetries: 2 } },
  (d) => void d.task('work', () => 1),
)
const lost = (reason = 'runner died'): AttemptOutcome => ({ ok: false, error: reason, reason, nonRetryable: false, failureClass: 'infrastructure' })

/** One claimed attempt of `work`, loaded as its runner would. */
async function claimed(db: Db) {
  const { claimed, attempt } = await claimAttempts(db, [work], 'attempt_store')
  const found = await loadAttempt(db, attempt('work'))
  return { ti: claimed[0]!, spec: found!.spec, state: found!.state }
}

/** Claims the instance's next try once it is up for retry. */
async function retry(db: Db, tiId: number, runPk: number) {
  await decideTasks(db, new Set([runPk]), new Date(Date.now() + 1000))
  await claimTasks(db, 'sched-2', 10, runPk)
  const a = await db
    .selectFrom('task_attempt')
    .select('id')
    .where('task_instance_id', '=', tiId)
    .orderBy('try_number', 'desc')
    .executeTakeFirstOrThrow()
  return (await loadAttempt(db, a.id))!.spec
}

describe.each(STORE_KINDS)('attempt store functions on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())

  it('loads an attempt by its id with a path relative to the DAGs folder and the instance budget', async () => {
    const { spec, state } = await claimed(t.store.db)
    expect(state).toBe('queued')
    expect(spec).toMatchObject({
      fileloc: 'runner.dag.ts',
      tryNumber: 1,
      maxTries: 2,
      infraFailures: 0,
      maxInfraRetries: 2,
      previousDetails: null,
      claimedBy: 'sched-1',
    })
    expect(await loadAttempt(t.store.db, 987654)).toBeNull()
  })

  it('spends the infrastructure budget, never the retries, and fails once it is spent', async () => {
    const db = t.store.db
    let { ti, spec } = await claimed(db)
    const reasons: string[] = []
    for (let i = 0; i < 3; i++) {
      expect((await recordOutcome(db, spec, lost(), 1 << 20)).recorded).toBe(true)
      const rows = await attemptRows(db, ti.id)
      reasons.push(rows.ti.reason!)
      expect(rows.attempts.at(-1)).toMatchObject({ state: i < 2 ? 'up_for_retry' : 'failed', failure_class: 'infrastructure' })
      if (i < 2) spec = await retry(db, ti.id, ti.dag_run_id)
    }
    expect(reasons).toEqual([
      'infrastructure: runner died; retrying, infrastructure retry 1 of 2',
      'infrastructure: runner died; retrying, infrastructure retry 2 of 2',
      'infrastructure: runner died; infrastructure retries spent (2 of 2)',
    ])
    // Three tries ran and the task's one retry is untouched: max_tries grew with each infrastructure retry.
    expect((await attemptRows(db, ti.id)).ti).toMatchObject({ state: 'failed', try_number: 3, max_tries: 4, infra_failures: 3 })
  })

  it("retries an infrastructure failure after a short pause, not the task's backoff; a task failure waits the backoff", async () => {
    const db = t.store.db
    const runAfterOf = async (outcome: AttemptOutcome) => {
      const { claimed, attempt } = await claimAttempts(db, [patient], 'attempt_store_patient')
      const spec = (await loadAttempt(db, attempt('work')))!.spec
      const before = Date.now()
      expect((await recordOutcome(db, spec, outcome, 1 << 20)).recorded).toBe(true)
      const { ti } = await attemptRows(db, claimed[0]!.id)
      expect(ti.state).toBe('up_for_retry')
      return ti.run_after!.getTime() - before
    }
    const infraWait = await runAfterOf(lost())
    expect(infraWait).toBeLessThanOrEqual(INFRA_RETRY_DELAY_MS + 60_000)
    const taskWait = await runAfterOf({ ok: false, error: 'flaky', reason: 'flaky', nonRetryable: false, failureClass: 'task' })
    // One hour with the exponential backoff's jitter of 25 %.
    expect(taskWait).toBeGreaterThan(0.74 * 3_600_000)
  })

  it('drops a late outcome whole once the guard moved (attempt given up on, or the instance on a newer try)', async () => {
    const db = t.store.db
    const { ti, spec } = await claimed(db)
    expect((await recordOutcome(db, spec, lost('executor lost it'), 1 << 20)).recorded).toBe(true)
    const before = await attemptRows(db, ti.id)
    // The runner it had lost comes back and reports success for the same try.
    expect((await recordOutcome(db, spec, { ok: true, result: { late: true }, outlets: [{ uri: 'late://x' }] }, 1 << 20)).recorded).toBe(false)
    expect(await beginAttempt(db, { attemptId: spec.attemptId, tiId: ti.id, tryNumber: 1 }, 'late-runner', null)).toBe(false)
    expect(await heartbeatAttempt(db, { attemptId: spec.attemptId, tiId: ti.id, tryNumber: 1 }, { late: 1 })).toBe(false)
    expect(await attemptRows(db, ti.id)).toEqual(before)
    expect(await db.selectFrom('dataset').selectAll().where('uri', '=', 'late://x').execute()).toEqual([])
    // Its retry is a new attempt, which the late one's outcome cannot touch either.
    const next = await retry(db, ti.id, ti.dag_run_id)
    expect((await recordOutcome(db, spec, { ok: true, result: 1 }, 1 << 20)).recorded).toBe(false)
    expect((await attemptRows(db, ti.id)).ti).toMatchObject({ state: 'queued', try_number: next.tryNumber })
  })

  it('begins, heartbeats details that the next try gets back, and appends log chunks once each', async () => {
    const db = t.store.db
    const { ti, spec } = await claimed(db)
    const key = { attemptId: spec.attemptId, tiId: ti.id, tryNumber: 1 }
    expect(await beginAttempt(db, key, 'host:1', 'local:1')).toBe(true)
    expect(await heartbeatAttempt(db, key, { offset: 10 })).toBe(true)
    expect(await heartbeatAttempt(db, key)).toBe(true) // no details: the last ones stay
    await appendLogChunks(db, spec.attemptId, [{ seq: 1, text: 'one\n' }])
    await appendLogChunks(db, spec.attemptId, [
      { seq: 1, text: 'one again\n' },
      { seq: 2, text: 'two\n' },
    ])
    expect(await readLogChunks(db, spec.attemptId)).toEqual([
      { seq: 1, text: 'one\n' },
      { seq: 2, text: 'two\n' },
    ])
    expect(await readLogChunks(db, spec.attemptId, 1)).toEqual([{ seq: 2, text: 'two\n' }])
    const rows = await attemptRows(db, ti.id)
    expect(rows.ti).toMatchObject({ state: 'running', executor_id: 'local:1' })
    expect(rows.attempts[0]).toMatchObject({ state: 'running', runner_id: 'host:1', heartbeat_details: { offset: 10 } })
    expect((await recordOutcome(db, spec, lost(), 1 << 20)).recorded).toBe(true)
    const next = await retry(db, ti.id, ti.dag_run_id)
    expect(next.previousDetails).toEqual({ offset: 10 })
  })

  it('claims a handed successor for whoever watches the attempt now, not for the scheduler that claimed it and died', async () => {
    const db = t.store.db
    const { run, claimed: rows, attempt } = await claimAttempts(db, [chain], 'attempt_store_chain')
    const spec = (await loadAttempt(db, attempt('first')))!.spec
    expect([spec.claimedBy, spec.handoff?.task_id]).toEqual(['sched-1', 'next'])
    // sched-1 dies while the runner works; sched-2 adopts the attempt.
    const first = rows.find((r) => r.task_id === 'first')!
    await takeOver(db, [{ tiId: first.id } as OrphanRow], 'sched-2')
    const { recorded, handed } = await recordOutcome(db, spec, { ok: true, result: 1 }, 1 << 20)
    expect([recorded, handed.length]).toEqual([true, 1])
    const next = await db
      .selectFrom('task_instance')
      .selectAll()
      .where('dag_run_id', '=', run.id)
      .where('task_id', '=', 'next')
      .executeTakeFirstOrThrow()
    expect([next.state, next.claimed_by]).toEqual(['queued', 'sched-2'])
  })

  it("numbers a runner's chunks apart from the executor's notes, and keeps every note of a burst", async () => {
    const db = t.store.db
    const { spec } = await claimed(db)
    // The executor notes the pod waiting for a node before the runner has written anything.
    await appendExecutorNote(db, spec.attemptId, 'warning: FailedScheduling\n')
    expect(await lastLogSeq(db, spec.attemptId)).toBe(0)
    await appendLogChunks(db, spec.attemptId, [{ seq: 1, text: 'runner line\n' }])
    expect(await lastLogSeq(db, spec.attemptId)).toBe(1)
    // Notes written at once (events of one burst) each find a number of their own.
    await Promise.all(Array.from({ length: 8 }, (_, i) => appendExecutorNote(db, spec.attemptId, `note ${i}\n`)))
    const chunks = await readLogChunks(db, spec.attemptId)
    expect(chunks.filter((c) => c.seq > STORE_NUMBERED_SEQ)).toHaveLength(9)
    expect(chunks.map((c) => c.text).sort()).toEqual(
      ['runner line\n', 'warning: FailedScheduling\n', ...Array.from({ length: 8 }, (_, i) => `note ${i}\n`)].sort(),
    )
  })

  it("loses no line when the executor's notes, a scheduler's closing line and its appended output, and the runner's chunks are written at once", async () => {
    const db = t.store.db
    for (let round = 0; round < 6; round++) {
      const { ti, spec } = await claimed(db)
      const notes = Array.from({ length: 12 }, (_, i) => `note ${round}.${i}\n`)
      const closing = `[forge] closing line ${round}\n`
      const writes = await Promise.allSettled([
        ...notes.map((n) => appendExecutorNote(db, spec.attemptId, n)),
        appendLogChunks(db, spec.attemptId, [{ seq: 1, text: `runner ${round}\n` }]),
        heartbeat(db, 'attempt_store', [], new Map([[`${ti.id}:1`, `thread output ${round}\n`]])),
        // Odd rounds record a success (RECORD_ONE), even ones a loss (RECORD_FEW): each appends the closing line.
        recordEvents(
          db,
          'attempt_store',
          [],
          [{ ...toFinished(spec, round % 2 ? { ok: true, result: round } : lost(`lost ${round}`)), log: closing }],
          1 << 20,
        ),
      ])
      expect(writes.filter((w) => w.status === 'rejected')).toEqual([])
      const chunks = await readLogChunks(db, spec.attemptId)
      expect(chunks.map((c) => c.text).sort()).toEqual([...notes, `runner ${round}\n`, `thread output ${round}\n`, closing].sort())
      // Read in the order written by each writer: the runner's own chunks first, then the store's, in order.
      expect(chunks[0]!.text).toBe(`runner ${round}\n`)
    }
  })

  it("a reader that follows the log sees the runner's chunks written after an executor's note", async () => {
    const db = t.store.db
    const { spec } = await claimed(db)
    await appendExecutorNote(db, spec.attemptId, 'warning: FailedScheduling\n')
    let read = await readNewLogChunks(db, spec.attemptId)
    expect(read.chunks.map((c) => c.text)).toEqual(['warning: FailedScheduling\n'])
    // The runner begins once the pod is scheduled; its chunks are numbered below the note's.
    await appendLogChunks(db, spec.attemptId, [{ seq: 1, text: 'runner line\n' }])
    read = await readNewLogChunks(db, spec.attemptId, read.cursor)
    expect(read.chunks.map((c) => c.text)).toEqual(['runner line\n'])
    await appendExecutorNote(db, spec.attemptId, 'warning: Killing\n')
    await appendLogChunks(db, spec.attemptId, [{ seq: 2, text: 'runner line 2\n' }])
    read = await readNewLogChunks(db, spec.attemptId, read.cursor)
    expect(read.chunks.map((c) => c.text)).toEqual(['runner line 2\n', 'warning: Killing\n'])
    expect((await readNewLogChunks(db, spec.attemptId, read.cursor)).chunks).toEqual([])
  })
})
