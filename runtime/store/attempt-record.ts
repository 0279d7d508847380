import { CompiledQuery } from 'kysely'
import { DEFAULT_INFRA_RETRIES, type SerializedTask } from '../dag/serialize.ts'
import { FailureClass, decideFailure, retryWaitMs } from '../model/failure.ts'
import { TaskState } from '../model/states.ts'
import type { Db, TaskInstanceRow } from './database.ts'
import type { SqlRunner } from './direct-connection.ts'
import { producedOutlets, recordOutletsIn, type Outlet } from './attempt-outlets.ts'
import { MARK_STARTED, RECORD, RECORD_FEW, RECORD_FEW_MAX, RECORD_ONE, type RecordedRow } from './attempt-record-sql.ts'

export interface Finished {
  tiId: number
  tryNumber: number
  maxTries: number
  runPk: number
  taskId: string
  mapIndex: number
  task: SerializedTask
  ok: boolean
  result?: unknown
  nonRetryable: boolean
  /** Interrupted by a clean shutdown: up for retry at once, and the attempt does not count against retries. */
  requeue?: boolean
  /** Why it failed (model/failure.ts); default `task`. */
  failureClass?: FailureClass
  /** The instance's infrastructure failures before this attempt and its budget (needed for infrastructure failures). */
  infraFailures?: number
  maxInfraRetries?: number
  reason: string | null
  log: string
  /** Datasets the attempt produced, recorded as dataset events if its success is (attempt-outlets.ts). */
  outlets?: { dagId: string; runId: string; items: Outlet[] }
}

export interface Started {
  tiId: number
  tryNumber: number
  executorId: string
}

/**
 * Records finished attempts, set-based in one transaction: started attempts become running, finished ones success,
 * up_for_retry (with its backoff) or failed, with their failure class, XCom and log. Every update is under the
 * attempt's guard (attempt-record-sql.ts): if the reaper or the executor already gave up on this attempt, the late
 * result is dropped rather than recorded twice. Returns the run ids that changed.
 */
export async function recordEvents(
  db: Db,
  schedulerId: string,
  started: Started[],
  finished: Finished[],
  xcomMaxBytes: number,
): Promise<Set<number>> {
  return db.transaction().execute(async (trx) => (await recordEventsIn(trx, schedulerId, started, finished, xcomMaxBytes)).runs)
}

export interface Recorded {
  /** Runs whose instances changed. */
  runs: Set<number>
  /** Task instances whose result this call recorded as success. */
  succeeded: Set<number>
  /** Successors claimed by slot handoff, with the instance whose slot each took and their attempt id. */
  handed: Array<TaskInstanceRow & { from_id: number; attempt_id: number | null }>
}

/**
 * A slot handoff: when `from` succeeds, its successor `task_id` (in run `run`) is claimed in the same statement,
 * taking over `from`'s pool slot, DAG concurrency slot and executor slot. Pool and DAG occupancy do not grow, so
 * no cap can be exceeded whatever other schedulers do, and the claim needs no pool lock: a chain edge becomes one
 * statement. The scheduler proposes handoffs only for all_success, unmapped successors in the same pool needing
 * no more slots; SQL checks that every other upstream has succeeded (success is final, so a snapshot that says
 * so cannot be stale) and that the successor is still undecided.
 */
export interface Handoff {
  from_id: number
  run: number
  task_id: string
  /** The successor's other upstream task ids. */
  ups: string[]
}

interface ResultRow {
  id: number
  /** The result as JSON text, or null for none. */
  value: string | null
  run: number
  taskId: string
  mapIndex: number
  fields: {
    try: number
    state: string
    reason: string | null
    run_after: string | null
    extra_tries: number
    infra: number
    failure_class: FailureClass | null
    size: number
    log: string
  }
}

/** RECORD's $1: {id: fields}, with each result's JSON text spliced in as it is (no "value" key: no result). */
function recordMap(rows: ResultRow[]): string {
  return `{${rows.map((r) => `"${r.id}":${JSON.stringify(r.fields).slice(0, -1)}${r.value === null ? '' : `,"value":${r.value}`}}`).join(',')}}`
}

/** RECORD's $2: {"run|task": {from, ups?}}. */
function handoffMap(handoffs: Handoff[]): string {
  return JSON.stringify(
    Object.fromEntries(handoffs.map((h) => [`${h.run}|${h.task_id}`, h.ups.length ? { from: h.from_id, ups: h.ups } : { from: h.from_id }])),
  )
}

/** The statement that records these results and handoffs (attempt-record-sql.ts says which and why). */
function recordStatement(rows: ResultRow[], handoffs: Handoff[], schedulerId: string): CompiledQuery {
  const [one] = rows
  const [h] = handoffs
  if (
    rows.length === 1 &&
    one!.fields.state === TaskState.Success &&
    one!.value !== null &&
    handoffs.length <= 1 &&
    (!h || (h.from_id === one!.id && h.run === one!.run && h.ups.length === 0))
  ) {
    return CompiledQuery.raw(RECORD_ONE, [one!.id, one!.fields.try, schedulerId, one!.value, one!.fields.size, one!.fields.log, h?.task_id ?? null])
  }
  const ids = rows.map((r) => r.id)
  if (rows.length <= RECORD_FEW_MAX && handoffs.length <= RECORD_FEW_MAX) {
    const list = rows.map((r) => ({ id: r.id, ...r.fields, value: r.value, run: r.run, task_id: r.taskId, map_index: r.mapIndex }))
    return CompiledQuery.raw(RECORD_FEW, [JSON.stringify(list), ids, schedulerId, JSON.stringify(handoffs)])
  }
  return CompiledQuery.raw(RECORD, [
    recordMap(rows),
    handoffMap(handoffs),
    ids,
    schedulerId,
    handoffs.map((x) => x.run),
    handoffs.map((x) => x.task_id),
  ])
}

/**
 * recordEvents in the caller's transaction: one statement for started attempts, one for finished ones.
 * `schedulerId` marks started attempts (the scheduler that launched them) and is who handed successors are
 * claimed for; it is no part of the guard.
 */
export async function recordEventsIn(
  trx: SqlRunner,
  schedulerId: string,
  started: Started[],
  finished: Finished[],
  xcomMaxBytes: number,
  handoffs: Handoff[] = [],
): Promise<Recorded> {
  const changedRuns = new Set<number>()
  const succeeded = new Set<number>()
  const handed: Recorded['handed'] = []
  if (started.length === 0 && finished.length === 0) return { runs: changedRuns, succeeded, handed }
  const now = Date.now()
  const rows = finished.map((f): ResultRow => {
    let value: string | null = null
    let size = 0
    let ok = f.ok
    let reason = f.reason
    let nonRetryable = f.nonRetryable
    if (ok) {
      value = JSON.stringify(f.result ?? null)
      size = Buffer.byteLength(value)
      if (size > xcomMaxBytes) {
        ok = false
        nonRetryable = true
        value = null
        reason = `result of task "${f.taskId}" is ${bytes(size)}; XCom values are capped at ${bytes(xcomMaxBytes)} (FORGE_XCOM_MAX_BYTES): write large data to S3 or disk and return its location`
        size = 0
      }
    }
    let state: TaskState = TaskState.Success
    let extraTries = 0
    let infra = 0
    let failureClass: FailureClass | null = null
    let runAfter: string | null = null
    if (!ok && f.requeue) {
      state = TaskState.UpForRetry
      extraTries = 1
      runAfter = new Date(now).toISOString()
    } else if (!ok) {
      failureClass = f.failureClass ?? FailureClass.Task
      const d = decideFailure({
        tryNumber: f.tryNumber,
        maxTries: f.maxTries,
        nonRetryable,
        failureClass,
        infraFailures: f.infraFailures ?? 0,
        maxInfraRetries: f.maxInfraRetries ?? DEFAULT_INFRA_RETRIES,
        reason: reason ?? 'failed',
      })
      state = d.state
      reason = d.reason
      extraTries = d.refundsTry ? 1 : 0
      infra = d.spendsInfra ? 1 : 0
      if (d.state === TaskState.UpForRetry) runAfter = new Date(now + retryWaitMs(d, f.task, f.tryNumber)).toISOString()
    }
    return {
      id: f.tiId,
      value,
      run: f.runPk,
      taskId: f.taskId,
      mapIndex: f.mapIndex,
      fields: { try: f.tryNumber, state, reason, run_after: runAfter, extra_tries: extraTries, infra, failure_class: failureClass, size, log: f.log },
    }
  })
  if (started.length) {
    const ids = started.map((x) => x.tiId)
    const m = JSON.stringify(Object.fromEntries(started.map((x) => [x.tiId, { try: x.tryNumber, executor_id: x.executorId }])))
    await trx.executeQuery(CompiledQuery.raw(MARK_STARTED, [m, ids, schedulerId]))
  }
  if (rows.length === 0) return { runs: changedRuns, succeeded, handed }
  // One statement: the guarded instance update decides which results count; XCom and attempt rows are written
  // only for those (a result the reaper already gave up on is dropped whole).
  const updated = await trx.executeQuery<RecordedRow>(recordStatement(rows, handoffs, schedulerId))
  for (const r of updated.rows) {
    if (r.kind === 'handed') {
      handed.push(r.row!)
      continue
    }
    changedRuns.add(r.dag_run_id)
    if (r.state === TaskState.Success) succeeded.add(r.id)
  }
  const produced = finished.filter((f) => succeeded.has(f.tiId) && (f.outlets?.items.length || f.task.outlets?.length))
  if (produced.length) {
    await recordOutletsIn(
      trx,
      produced.map((f) => ({ source: { tiId: f.tiId, tryNumber: f.tryNumber }, outlets: producedOutlets(f.outlets?.items, f.task.outlets) })),
    )
  }
  return { runs: changedRuns, succeeded, handed }
}

/** A size for a message: MiB from 1 MiB up, bytes below (a cap of 100 bytes is not "0.00 MiB"). */
function bytes(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(2)} MiB` : `${n} bytes`
}
