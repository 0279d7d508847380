import { DEFAULT_MAX_MAP_WIDTH } from '../config.ts'
import { decideRun, type RunDecision, type TiView } from '../model/decide-run.ts'
import { RunState, TaskState } from '../model/states.ts'
import { taskOf } from '../dag/serialize.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db, Trx } from '../store/database.ts'
import { endDecidedRuns, lockRunsToDecide, markRunsExamined } from '../store/decide-runs.ts'
import { expandMapped } from '../store/expand-mapped.ts'
import { failRunIn } from '../store/run-fail.ts'
import { releaseSavepoint, rollbackToSavepoint, savepoint } from '../store/savepoint.ts'
import { applyTaskUpdates } from '../store/task-decisions.ts'
import { decideFailureReason, isRunsOwnFault } from './fail-run.ts'

export interface DecideResult {
  changed: number
  scheduled: number
  finishedRuns: Array<{ id: number; dag_id: string; run_id: string; state: RunState }>
  /** Runs decided here that wait for a retry, each with when its first retry falls due (the scheduler re-decides it then). */
  retryAt: Map<number, Date>
}

export interface DecideOptions {
  onlyRunPk?: number
  scan?: boolean
  limit?: number
  /** Longest list a mapped task may expand over (FORGE_MAX_MAP_WIDTH). */
  maxMapWidth?: number
  /**
   * Decide each run in a savepoint of its own and fail a run whose decision throws, recording why. The scheduler
   * sets it to retry a pass that failed; the regular pass needs no extra round trips.
   */
  isolate?: boolean
}

type Run = { id: number; dag_id: string; run_id: string; dag_version_id: number }
type Updates = RunDecision['updates']
type Decided = { run: Run; d: RunDecision; scheduled: number; failRun?: string }

/**
 * Examines running runs: `dirty` ones (their tasks just changed) and, when `scan` is set, the least recently
 * examined others too. Each run row is locked with SKIP LOCKED, so two schedulers never decide the same run at
 * once (Airflow models/adr/0003: lock the run before its task instances). A paused DAG's runs are not decided, so
 * they schedule no new tasks until it is unpaused, as in Airflow. Runs in the caller's transaction.
 */
export async function decideIn(trx: Trx, dirty: Set<number>, now: Date, opts: DecideOptions = {}): Promise<DecideResult> {
  const limit = opts.limit ?? 20
  const result: DecideResult = { changed: 0, scheduled: 0, finishedRuns: [], retryAt: new Map() }
  const dirtyIds = [...dirty].slice(0, limit)
  if (dirtyIds.length === 0 && !opts.scan) return result
  const rows = await lockRunsToDecide(trx, { dirtyIds, scan: opts.scan ?? false, onlyRunPk: opts.onlyRunPk, limit, now })
  for (const id of dirtyIds) dirty.delete(id)
  const runMap = new Map<number, Run>()
  for (const row of rows)
    if (!runMap.has(row.dag_run_id))
      runMap.set(row.dag_run_id, { id: row.dag_run_id, dag_id: row.dag_id, run_id: row.run_id, dag_version_id: row.dag_version_id })
  const runs = [...runMap.values()]
  if (runs.length === 0) return result
  const tisByRun = new Map<number, TiView[]>()
  for (const t of rows) {
    const list = tisByRun.get(t.dag_run_id)
    if (list) list.push(t)
    else tisByRun.set(t.dag_run_id, [t])
  }
  const maxWidth = opts.maxMapWidth ?? DEFAULT_MAX_MAP_WIDTH
  const updates: Updates = []
  const decided: Decided[] = []
  for (const run of runs) {
    const tis = tisByRun.get(run.id) ?? []
    if (!opts.isolate) {
      const one = await decideOne(trx, run, tis, now, maxWidth)
      if (!one.failRun) updates.push(...one.d.updates)
      decided.push(one)
      continue
    }
    await savepoint(trx, 'forge_decide_run')
    try {
      const one = await decideOne(trx, run, tis, now, maxWidth)
      if (!one.failRun) await applyTaskUpdates(trx, one.d.updates)
      await releaseSavepoint(trx, 'forge_decide_run')
      decided.push(one)
    } catch (err) {
      if (!isRunsOwnFault(err)) throw err
      await rollbackToSavepoint(trx, 'forge_decide_run')
      decided.push({
        run,
        d: { updates: [], expand: [], runState: RunState.Running, nextWakeAt: null },
        scheduled: 0,
        failRun: decideFailureReason(err),
      })
    }
  }
  await applyTaskUpdates(trx, updates)
  for (const { run, d, scheduled, failRun } of decided) {
    if (failRun) {
      if (await failRunIn(trx, run.id, failRun))
        result.finishedRuns.push({ id: run.id, dag_id: run.dag_id, run_id: run.run_id, state: RunState.Failed })
      result.changed++
      continue
    }
    result.changed += d.expand.length + d.updates.length
    result.scheduled += scheduled + d.updates.filter((u) => u.to === TaskState.Scheduled).length
    if (d.nextWakeAt) result.retryAt.set(run.id, d.nextWakeAt)
    // Expansion added instances the decision did not see: look again next tick before finishing the run.
    if (d.runState !== RunState.Running && d.expand.length === 0)
      result.finishedRuns.push({ id: run.id, dag_id: run.dag_id, run_id: run.run_id, state: d.runState })
    if (d.expand.length > 0) dirty.add(run.id)
  }
  // Only the scan orders by last_examined_at; a dirty-run pass need not pay for the write.
  if (opts.scan)
    await markRunsExamined(
      trx,
      runs.map((r) => r.id),
      now,
    )
  await endDecidedRuns(trx, result.finishedRuns, now)
  return result
}

/** decideIn in a transaction of its own, scanning stale runs too (tests and one-off callers). */
export async function decideTasks(db: Db, dirty: Set<number>, now: Date, onlyRunPk?: number, opts: DecideOptions = {}): Promise<DecideResult> {
  return db.transaction().execute((trx) => decideIn(trx, dirty, now, { onlyRunPk, scan: true, ...opts }))
}

/** One run's decision and its mapped expansions; the caller applies the updates. */
async function decideOne(trx: Trx, run: Run, tis: TiView[], now: Date, maxWidth: number): Promise<Decided> {
  const dag = await getDagVersion(trx, run.dag_version_id)
  const d = decideRun(dag, tis, now)
  let scheduled = 0
  for (const e of d.expand) {
    const x = await expandMapped(trx, run.id, e.id, taskOf(dag, e.task_id)!.map_over, maxWidth)
    if (x.failRun) return { run, d, scheduled: 0, failRun: x.failRun }
    scheduled += x.scheduled
  }
  return { run, d, scheduled }
}
