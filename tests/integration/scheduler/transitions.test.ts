import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag, type SerializedDag } from '../../../runtime/dag/serialize.ts'
import { TaskState } from '../../../runtime/model/states.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import type { SpecCache } from '../../../runtime/store/attempt-load.ts'
import { recordEvents, recordEventsIn, type Finished } from '../../../runtime/store/attempt-record.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { failRunIn } from '../../../runtime/store/run-fail.ts'
import { planHandoffs } from '../../../runtime/scheduler/handoff.ts'
import { reapLostAttempts } from '../../../runtime/store/reap-lost.ts'
import { openPostgres } from '../../../runtime/store/connect.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import type { DagRunRow, Db } from '../../../runtime/store/database.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { clearRun, markTask } from '../../../runtime/service/index.ts'
import { ADMIN_URL, STORE_KINDS, createTestDatabase, openTestStore, type TestStore } from '../../helpers/stores.ts'
import { guardedPairs, resetTransitionViolations, transitionViolations } from '../../helpers/transition-guard.ts'

/*
 * Every row of runtime/model/transitions.ts (and every state an instance is created in), each with the scenario in
 * which the runtime itself makes it: decision passes, claims, recorded results, the reaper, map expansion and
 * slot handoffs, called as the scheduler calls them. Each test checks the instance is in `from` just before the
 * step and in `to` after it. The test stores refuse any write the table does not allow (transition-guard.ts), so
 * removing a row from the table fails its scenario: either the step's guarded UPDATE changes nothing, or the
 * database refuses it.
 */

const ME = 'transitions-test'
const XCOM_MAX = 1 << 20

const DAGS: Record<string, SerializedDag> = Object.fromEntries(
  [
    defineDag({ id: 'tr_retry', maxActiveRuns: 64, defaults: { retries: 1, retryDelay: 0 } }, (d) => void d.task('work', () => 1)),
    defineDag({ id: 'tr_last', maxActiveRuns: 64 }, (d) => void d.task('work', () => 1)),
    defineDag({ id: 'tr_chain', maxActiveRuns: 64 }, (d) => {
      const a = d.task('a', () => 1)
      d.task('b', { inputs: { a: a.out }, run: () => 2 })
    }),
    defineDag({ id: 'tr_join' }, (d) => {
      const a = d.task('a', () => 1)
      const c = d.task('c', () => 2)
      d.task('b', { inputs: { a: a.out, c: c.out }, run: () => 3 })
    }),
    defineDag({ id: 'tr_mapped', maxActiveRuns: 64 }, (d) => {
      const plan = d.task('plan', () => [1, 2, 3])
      const square = d.map('square', plan.out, ({ item }) => (item as number) ** 2)
      d.task('total', { inputs: { s: square.out }, run: () => 0 })
    }),
    defineDag({ id: 'tr_drop' }, (d) => {
      const up = d.task('up', () => 1)
      d.task('work', () => 2, { after: [up] })
      d.task('alt', () => 3, { after: [up], triggerRule: 'all_failed' })
    }),
  ].map((def) => {
    const dag = serializeDag(def, 'transitions.dag.ts')
    return [dag.dag_id, dag]
  }),
)
/** tr_drop's next version, which has neither `work` nor `alt`: a clear moves a run onto it. */
const TR_DROP_V2 = serializeDag(
  defineDag({ id: 'tr_drop' }, (d) => void d.task('up', () => 1)),
  'transitions.dag.ts',
)

type Outcome = { ok: true; result: unknown } | { ok: false; nonRetryable?: boolean; requeue?: boolean }

/** One run of one DAG, moved on by the scheduler's own steps. */
class RunDriver {
  run!: DagRunRow
  constructor(
    readonly db: Db,
    readonly dag: SerializedDag,
  ) {}

  async trigger(): Promise<void> {
    this.run = await triggerRun(this.db, this.dag.dag_id, {})
    await startQueuedRuns(this.db)
  }

  find(task: string, mapIndex = -1) {
    if (!this.run) return Promise.resolve(undefined)
    return this.db
      .selectFrom('task_instance')
      .selectAll()
      .where('dag_run_id', '=', this.run.id)
      .where('task_id', '=', task)
      .where('map_index', '=', mapIndex)
      .executeTakeFirst()
  }

  async stateOf(id: number) {
    return (await this.db.selectFrom('task_instance').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state
  }

  /** A decision pass over this run only, so that a scenario that breaks cannot stall the others. */
  decide = () => decideTasks(this.db, new Set([this.run.id]), new Date(), this.run.id)
  claim = () => claimTasks(this.db, ME, 10, this.run.id)

  /** The executor reported the attempt started (the scheduler's MARK_STARTED). */
  async started(task: string): Promise<void> {
    const ti = (await this.find(task))!
    await recordEvents(this.db, ME, [{ tiId: ti.id, tryNumber: ti.try_number, executorId: 'test:1' }], [], XCOM_MAX)
  }

  /** The executor reported the attempt's end; recorded with the slot handoffs the scheduler would plan for it. */
  async finish(task: string, o: Outcome): Promise<void> {
    const ti = (await this.find(task))!
    const f: Finished = {
      tiId: ti.id,
      tryNumber: ti.try_number,
      maxTries: ti.max_tries,
      runPk: this.run.id,
      taskId: task,
      mapIndex: ti.map_index,
      task: this.dag.tasks.find((x) => x.task_id === task)!,
      ok: o.ok,
      result: o.ok ? o.result : undefined,
      nonRetryable: !o.ok && !!o.nonRetryable,
      requeue: !o.ok && !!o.requeue,
      reason: o.ok ? null : 'boom',
      log: '',
    }
    const cache: SpecCache = { runs: new Map([[this.run.id, this.run]]), results: new Map() }
    const r = await recordEventsIn(this.db, ME, [], [f], XCOM_MAX, await planHandoffs(this.db, cache, [f]))
    expect(r.runs.has(this.run.id)).toBe(true) // recorded, not dropped by the guards
  }

  /** The reaper on another scheduler, after this run's attempts went silent. */
  async reap(): Promise<void> {
    await this.db
      .updateTable('task_instance')
      .set({ last_heartbeat_at: sql`now() - interval '1 minute'` })
      .where('dag_run_id', '=', this.run.id)
      .execute()
    await reapLostAttempts(this.db, 10_000)
  }

  /** What a person does through the service layer (forge clear, forge tasks mark). */
  clear = (opts: { taskId?: string; downstream?: boolean } = {}) => clearRun(this.service(), this.run.run_id, opts)
  mark = (task: string, to: 'success' | 'failed', mapIndex = -1) => markTask(this.service(), this.run.run_id, task, to, mapIndex)
  private service = () => ({ db: this.db, config: { dagsFolder: '/nonexistent', dagImportTimeoutMs: 1000 } })

  /** Runs `task` to success with `result` (the instance must be scheduled). */
  async succeed(task: string, result: unknown): Promise<void> {
    await this.claim()
    await this.finish(task, { ok: true, result })
  }
}

type From = TaskState | null | 'created'

interface Scenario {
  from: From
  to: TaskState | null
  by: string
  dag: string
  /** The instance that makes the transition (for "created": the one the step creates). */
  task: string
  mapIndex?: number
  /** Brings the run to just before the transition. */
  arrange: (r: RunDriver) => Promise<unknown>
  /** The runtime step that makes it. */
  act: (r: RunDriver) => Promise<unknown>
}

const S = TaskState
const ready = async (r: RunDriver) => {
  await r.trigger()
  await r.decide()
}
const claimed = async (r: RunDriver) => {
  await ready(r)
  await r.claim()
}
const running = async (r: RunDriver) => {
  await claimed(r)
  await r.started('work')
}
/** tr_mapped with plan succeeded, its result `list`. */
const planned = (list: unknown) => async (r: RunDriver) => {
  await ready(r)
  await r.succeed('plan', list)
}

/** tr_last's work failed on its last try. */
const failedLast = async (r: RunDriver) => {
  await running(r)
  await r.finish('work', { ok: false })
}
/** tr_retry's work failed with a retry left. */
const retrying = failedLast
const succeeded = async (r: RunDriver) => {
  await running(r)
  await r.finish('work', { ok: true, result: 1 })
}
/** tr_chain's a failed, so b is upstream_failed. */
const upstreamFailed = async (r: RunDriver) => {
  await claimed(r)
  await r.finish('a', { ok: false })
  await r.decide()
}
/** tr_mapped's square skipped, mapped over an empty list. */
const skippedMap = async (r: RunDriver) => {
  await planned([])(r)
  await r.decide()
}
/** A tr_drop run on its first version, brought to `then`; the act moves it onto TR_DROP_V2 with a clear. */
const onFirstVersion = (then: (r: RunDriver) => Promise<unknown>) => async (r: RunDriver) => {
  await syncDags(r.db, [DAGS.tr_drop!], [])
  await ready(r)
  await then(r)
}
const clearOntoV2 = async (r: RunDriver) => {
  await syncDags(r.db, [TR_DROP_V2], [])
  await r.clear({ taskId: 'up' })
}

const SCENARIOS: Scenario[] = [
  {
    from: 'created',
    to: null,
    by: 'a new run creates its instances undecided',
    dag: 'tr_retry',
    task: 'work',
    arrange: async () => {},
    act: (r) => r.trigger(),
  },
  {
    from: 'created',
    to: S.Scheduled,
    by: 'map expansion creates instances 1.. scheduled',
    dag: 'tr_mapped',
    task: 'square',
    mapIndex: 2,
    arrange: planned([1, 2, 3]),
    act: (r) => r.decide(),
  },

  {
    from: null,
    to: S.Scheduled,
    by: 'a decision pass schedules a task whose upstreams allow it',
    dag: 'tr_retry',
    task: 'work',
    arrange: (r) => r.trigger(),
    act: (r) => r.decide(),
  },
  {
    from: null,
    to: S.Scheduled,
    by: 'map expansion turns the placeholder into instance 0',
    dag: 'tr_mapped',
    task: 'square',
    arrange: planned([1, 2, 3]),
    act: (r) => r.decide(),
  },
  {
    from: S.UpForRetry,
    to: S.Scheduled,
    by: 'a decision pass once the retry is due',
    dag: 'tr_retry',
    task: 'work',
    arrange: async (r) => {
      await running(r)
      await r.finish('work', { ok: false })
    },
    act: (r) => r.decide(),
  },

  { from: S.Scheduled, to: S.Queued, by: 'a claim', dag: 'tr_retry', task: 'work', arrange: ready, act: (r) => r.claim() },
  {
    from: null,
    to: S.Queued,
    by: 'a slot handoff on a chain edge (the single-result statement)',
    dag: 'tr_chain',
    task: 'b',
    arrange: claimed,
    act: (r) => r.finish('a', { ok: true, result: 1 }),
  },
  {
    from: null,
    to: S.Queued,
    by: 'a slot handoff once the other upstream has succeeded (the batch statement)',
    dag: 'tr_join',
    task: 'b',
    arrange: async (r) => {
      await claimed(r)
      await r.finish('c', { ok: true, result: 2 })
    },
    act: (r) => r.finish('a', { ok: true, result: 1 }),
  },

  {
    from: S.Queued,
    to: S.Running,
    by: 'the attempt reported started',
    dag: 'tr_retry',
    task: 'work',
    arrange: claimed,
    act: (r) => r.started('work'),
  },

  {
    from: S.Running,
    to: S.Success,
    by: 'a result',
    dag: 'tr_retry',
    task: 'work',
    arrange: running,
    act: (r) => r.finish('work', { ok: true, result: 1 }),
  },
  {
    from: S.Queued,
    to: S.Success,
    by: 'a result that arrives before "started" was recorded',
    dag: 'tr_retry',
    task: 'work',
    arrange: claimed,
    act: (r) => r.finish('work', { ok: true, result: 1 }),
  },

  {
    from: null,
    to: S.Failed,
    by: 'map expansion over a value that is not a list',
    dag: 'tr_mapped',
    task: 'square',
    arrange: planned('not a list'),
    act: (r) => r.decide(),
  },
  {
    from: S.Running,
    to: S.Failed,
    by: 'the last try fails',
    dag: 'tr_last',
    task: 'work',
    arrange: running,
    act: (r) => r.finish('work', { ok: false }),
  },
  { from: S.Running, to: S.Failed, by: 'the reaper, on the last try', dag: 'tr_last', task: 'work', arrange: running, act: (r) => r.reap() },
  {
    from: S.Queued,
    to: S.Failed,
    by: 'a non-retryable failure before "started" was recorded',
    dag: 'tr_retry',
    task: 'work',
    arrange: claimed,
    act: (r) => r.finish('work', { ok: false, nonRetryable: true }),
  },

  {
    from: S.Running,
    to: S.UpForRetry,
    by: 'a failure with retries left',
    dag: 'tr_retry',
    task: 'work',
    arrange: running,
    act: (r) => r.finish('work', { ok: false }),
  },
  {
    from: S.Running,
    to: S.UpForRetry,
    by: 'requeued by a clean stop, even on the last try',
    dag: 'tr_last',
    task: 'work',
    arrange: running,
    act: (r) => r.finish('work', { ok: false, requeue: true }),
  },
  {
    from: S.Queued,
    to: S.UpForRetry,
    by: 'the reaper, on an attempt claimed but never started',
    dag: 'tr_retry',
    task: 'work',
    arrange: claimed,
    act: (r) => r.reap(),
  },

  {
    from: null,
    to: S.UpstreamFailed,
    by: 'a decision pass after the upstream failed',
    dag: 'tr_chain',
    task: 'b',
    arrange: async (r) => {
      await claimed(r)
      await r.finish('a', { ok: false })
    },
    act: (r) => r.decide(),
  },

  {
    from: null,
    to: S.Skipped,
    by: 'map expansion over an empty list',
    dag: 'tr_mapped',
    task: 'square',
    arrange: planned([]),
    act: (r) => r.decide(),
  },
  {
    from: null,
    to: S.Skipped,
    by: 'a decision pass after the upstream was skipped',
    dag: 'tr_mapped',
    task: 'total',
    arrange: async (r) => {
      await planned([])(r)
      await r.decide()
    },
    act: (r) => r.decide(),
  },

  {
    from: null,
    to: S.Removed,
    by: 'a map wider than FORGE_MAX_MAP_WIDTH fails the run; its undecided downstream is removed',
    dag: 'tr_mapped',
    task: 'total',
    arrange: planned([1, 2, 3]),
    act: (r) => decideTasks(r.db, new Set([r.run.id]), new Date(), r.run.id, { maxMapWidth: 2 }),
  },
  {
    from: S.Scheduled,
    to: S.Removed,
    by: 'a run that cannot be decided is failed (failRunIn) with an instance still scheduled',
    dag: 'tr_retry',
    task: 'work',
    arrange: ready,
    act: (r) => failRunIn(r.db, r.run.id, 'could not be decided: test'),
  },
  {
    from: S.UpForRetry,
    to: S.Removed,
    by: 'a run that cannot be decided is failed (failRunIn) with an instance waiting for its retry',
    dag: 'tr_retry',
    task: 'work',
    arrange: async (r) => {
      await running(r)
      await r.finish('work', { ok: false })
    },
    act: (r) => failRunIn(r.db, r.run.id, 'could not be decided: test'),
  },

  {
    from: null,
    to: S.Success,
    by: 'marked success by hand before it was decided',
    dag: 'tr_chain',
    task: 'b',
    arrange: ready,
    act: (r) => r.mark('b', 'success'),
  },
  {
    from: S.Scheduled,
    to: S.Success,
    by: 'marked success by hand before it was claimed',
    dag: 'tr_retry',
    task: 'work',
    arrange: ready,
    act: (r) => r.mark('work', 'success'),
  },
  {
    from: S.UpForRetry,
    to: S.Success,
    by: 'marked success by hand while it waits for its retry',
    dag: 'tr_retry',
    task: 'work',
    arrange: retrying,
    act: (r) => r.mark('work', 'success'),
  },
  {
    from: S.Failed,
    to: S.Success,
    by: 'marked success by hand after it failed',
    dag: 'tr_last',
    task: 'work',
    arrange: failedLast,
    act: (r) => r.mark('work', 'success'),
  },
  {
    from: S.UpstreamFailed,
    to: S.Success,
    by: 'marked success by hand after its upstream failed',
    dag: 'tr_chain',
    task: 'b',
    arrange: upstreamFailed,
    act: (r) => r.mark('b', 'success'),
  },
  {
    from: S.Skipped,
    to: S.Success,
    by: 'marked success by hand after it was skipped',
    dag: 'tr_mapped',
    task: 'square',
    arrange: skippedMap,
    act: (r) => r.mark('square', 'success'),
  },

  {
    from: S.Scheduled,
    to: S.Failed,
    by: 'marked failed by hand before it was claimed',
    dag: 'tr_retry',
    task: 'work',
    arrange: ready,
    act: (r) => r.mark('work', 'failed'),
  },
  {
    from: S.UpForRetry,
    to: S.Failed,
    by: 'marked failed by hand while it waits for its retry',
    dag: 'tr_retry',
    task: 'work',
    arrange: retrying,
    act: (r) => r.mark('work', 'failed'),
  },
  {
    from: S.Success,
    to: S.Failed,
    by: 'marked failed by hand after it succeeded',
    dag: 'tr_retry',
    task: 'work',
    arrange: succeeded,
    act: (r) => r.mark('work', 'failed'),
  },
  {
    from: S.UpstreamFailed,
    to: S.Failed,
    by: 'marked failed by hand after its upstream failed',
    dag: 'tr_chain',
    task: 'b',
    arrange: upstreamFailed,
    act: (r) => r.mark('b', 'failed'),
  },
  {
    from: S.Skipped,
    to: S.Failed,
    by: 'marked failed by hand after it was skipped',
    dag: 'tr_mapped',
    task: 'square',
    arrange: skippedMap,
    act: (r) => r.mark('square', 'failed'),
  },

  {
    from: S.Success,
    to: S.Removed,
    by: 'a clear moves the run onto a version without the task (it had succeeded)',
    dag: 'tr_drop',
    task: 'work',
    arrange: onFirstVersion(async (r) => {
      await r.succeed('up', 1)
      await r.decide()
      await r.succeed('work', 2)
    }),
    act: clearOntoV2,
  },
  {
    from: S.Failed,
    to: S.Removed,
    by: 'a clear moves the run onto a version without the task (it had failed)',
    dag: 'tr_drop',
    task: 'work',
    arrange: onFirstVersion(async (r) => {
      await r.succeed('up', 1)
      await r.decide()
      await r.claim()
      await r.finish('work', { ok: false })
    }),
    act: clearOntoV2,
  },
  {
    from: S.UpstreamFailed,
    to: S.Removed,
    by: 'a clear moves the run onto a version without the task (its upstream had failed)',
    dag: 'tr_drop',
    task: 'work',
    arrange: onFirstVersion(async (r) => {
      await r.claim()
      await r.finish('up', { ok: false })
      await r.decide()
    }),
    act: clearOntoV2,
  },
  {
    from: S.Skipped,
    to: S.Removed,
    by: 'a clear moves the run onto a version without the task (its trigger rule had skipped it)',
    dag: 'tr_drop',
    task: 'alt',
    arrange: onFirstVersion(async (r) => {
      await r.succeed('up', 1)
      await r.finish('work', { ok: true, result: 2 })
      await r.decide()
    }),
    act: clearOntoV2,
  },

  {
    from: S.Scheduled,
    to: null,
    by: 'a clear of the run before it was claimed',
    dag: 'tr_retry',
    task: 'work',
    arrange: ready,
    act: (r) => r.clear(),
  },
  {
    from: S.UpForRetry,
    to: null,
    by: 'a clear of the run while it waits for its retry',
    dag: 'tr_retry',
    task: 'work',
    arrange: retrying,
    act: (r) => r.clear(),
  },
  { from: S.Success, to: null, by: 'a clear of the finished run', dag: 'tr_retry', task: 'work', arrange: succeeded, act: (r) => r.clear() },
  {
    from: S.Failed,
    to: null,
    by: 'a clear of the failed task',
    dag: 'tr_last',
    task: 'work',
    arrange: failedLast,
    act: (r) => r.clear({ taskId: 'work' }),
  },
  {
    from: S.UpstreamFailed,
    to: null,
    by: 'a clear of the failed upstream with its downstream',
    dag: 'tr_chain',
    task: 'b',
    arrange: upstreamFailed,
    act: (r) => r.clear({ taskId: 'a', downstream: true }),
  },
  {
    from: S.Skipped,
    to: null,
    by: 'a clear of the skipped mapped task',
    dag: 'tr_mapped',
    task: 'square',
    arrange: skippedMap,
    act: (r) => r.clear({ taskId: 'square' }),
  },
  {
    from: S.Removed,
    to: null,
    by: 'a clear of a run that failed with an instance unstarted',
    dag: 'tr_retry',
    task: 'work',
    arrange: async (r) => {
      await ready(r)
      await failRunIn(r.db, r.run.id, 'could not be decided: test')
    },
    act: (r) => r.clear(),
  },
]

/** Rows of the table that no code performs today (none since a failed run removes its unstarted instances). */
const NOT_PERFORMED: Array<{ from: From; to: TaskState; why: string }> = []

const label = (s: From) => s ?? 'none'
const pair = (s: { from: From; to: TaskState | null }) => `${label(s.from)} -> ${label(s.to)}`

describe('the transition scenarios', () => {
  it('cover every row of runtime/model/transitions.ts and every state an instance is created in, and nothing else', () => {
    expect([...new Set([...SCENARIOS, ...NOT_PERFORMED].map(pair))].sort()).toEqual([...guardedPairs()].sort())
  })
  for (const n of NOT_PERFORMED) it.todo(`${pair(n)}: ${n.why}`)
})

describe.each(STORE_KINDS)('task-instance transitions on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
    await syncDags(t.store.db, Object.values(DAGS), [])
  })
  afterAll(() => t?.cleanup())

  for (const s of SCENARIOS) {
    it(`${pair(s)}: ${s.by}`, async () => {
      const r = new RunDriver(t.store.db, DAGS[s.dag]!)
      await s.arrange(r)
      const before = await r.find(s.task, s.mapIndex)
      if (s.from === 'created') {
        expect(before).toBeUndefined()
        await s.act(r)
        expect((await r.find(s.task, s.mapIndex))?.state).toBe(s.to)
      } else {
        expect(before?.state).toBe(s.from)
        await s.act(r)
        expect(await r.stateOf(before!.id)).toBe(s.to)
      }
    })
  }

  describe('the database guard', () => {
    const query = (text: string) => sql.raw(text).execute(t.store.db)
    async function undecided() {
      const r = new RunDriver(t.store.db, DAGS.tr_retry!)
      await r.trigger()
      return (await r.find('work'))!
    }
    async function expectRefused(write: () => Promise<unknown>, named: string) {
      const before = await transitionViolations(query)
      await expect(write()).rejects.toThrow(`${named} is not allowed by runtime/model/transitions.ts`)
      expect(await transitionViolations(query)).toEqual({ count: before.count + 1, last: named })
      // Refused on purpose: not a failure for the store's cleanup to report.
      if (before.count === 0) await resetTransitionViolations(query)
    }

    it('refuses a state change outside the table, naming it, and leaves the row as it was', async () => {
      const ti = await undecided()
      await expectRefused(
        () => t.store.db.updateTable('task_instance').set({ state: S.Running }).where('id', '=', ti.id).execute(),
        'none -> running',
      )
      expect((await t.store.db.selectFrom('task_instance').select('state').where('id', '=', ti.id).executeTakeFirstOrThrow()).state).toBeNull()
    })

    it('refuses a write of the state a row already has', async () => {
      const ti = await undecided()
      await t.store.db.updateTable('task_instance').set({ state: S.Scheduled }).where('id', '=', ti.id).execute()
      await expectRefused(
        () => t.store.db.updateTable('task_instance').set({ state: S.Scheduled }).where('id', '=', ti.id).execute(),
        'scheduled -> scheduled',
      )
    })

    it('refuses an instance created in a state the table does not create instances in', async () => {
      const ti = await undecided()
      const { id: _id, ...row } = ti
      await expectRefused(
        () =>
          t.store.db
            .insertInto('task_instance')
            .values({ ...row, map_index: 7, state: S.Success })
            .execute(),
        'created -> success',
      )
    })

    it("fails the test store's cleanup when a write was refused, even if the caller swallowed the error", async () => {
      const other = await openTestStore(kind)
      await syncDags(other.store.db, [DAGS.tr_retry!], [])
      const run = await triggerRun(other.store.db, 'tr_retry', {})
      await other.store.db
        .updateTable('task_instance')
        .set({ state: S.Running })
        .where('dag_run_id', '=', run.id)
        .execute()
        .catch(() => {})
      await expect(other.cleanup()).rejects.toThrow(
        '1 task_instance write(s) were refused as not allowed by runtime/model/transitions.ts (the last: none -> running)',
      )
    })

    it.runIf(kind === 'postgres')('holds for every connection to the database, as for the forge processes tests start', async () => {
      const ti = await undecided()
      const other = await openPostgres(t.url!)
      try {
        await expectRefused(
          () =>
            other.db
              .updateTable('task_instance')
              .set({ state: S.Failed })
              .where('id', '=', ti.id)
              .where('state', 'is', null)
              .execute()
              .then(() => other.db.updateTable('task_instance').set({ state: S.Queued }).where('id', '=', ti.id).execute()),
          'failed -> queued',
        )
      } finally {
        await other.close()
      }
    })
  })
})

describe.skipIf(!ADMIN_URL)('the guard on a test database that a forge process migrates', () => {
  it("is attached by the migration, refuses a write outside the table, and fails the database's drop", async () => {
    const { url, drop } = await createTestDatabase()
    const forge = fileURLToPath(new URL('../../../runtime/cli/forge.mjs', import.meta.url))
    await promisify(execFile)(process.execPath, [forge, 'db', 'migrate'], {
      env: { ...process.env, FORGE_DATABASE_URL: url, FORGE_LOG_LEVEL: 'warn' },
      timeout: 50_000,
    })
    const store = await openPostgres(url)
    try {
      const write = sql`insert into task_instance (dag_run_id, dag_id, run_id, task_id, state, max_tries, pool)
        values (1, 'd', 'r', 't', 'running', 1, 'default_pool')`.execute(store.db)
      await expect(write).rejects.toThrow('created -> running is not allowed by runtime/model/transitions.ts')
    } finally {
      await store.close()
    }
    await expect(drop()).rejects.toThrow('(the last: created -> running)')
  })
})
