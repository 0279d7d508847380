import { resolveInputs } from '../dag/ref.ts'
import type { SerializedTask } from '../dag/serialize.ts'
import type { AttemptSpec } from '../executors/executor.ts'
import type { SqlRunner } from '../store/direct-connection.ts'
import { recordEventsIn } from '../store/attempt-record.ts'

/** What a worker thread needs to take chain edges itself; handed over by the scheduler that owns the thread. */
export interface ChainSettings {
  databaseUrl: string
  schedulerId: string
  xcomMaxBytes: number
}

/** The claim of a handed-off successor: with its predecessor's spec, all it takes to build the successor's. */
export interface ChainClaim {
  attemptId: number
  tiId: number
  tryNumber: number
  maxTries: number
}

export type ChainEdge =
  /** The result is recorded and the successor claimed (claim) or not there to claim (null). */
  | { recorded: true; value: unknown; claim: ChainClaim | null }
  /** Nothing was written: the result goes back to the scheduler's regular path. */
  | { recorded: false }

/**
 * A pure chain edge (`next` is `chainSuccessor` of the spec's task), taken where the predecessor ran. On a chain of light tasks most of an edge used to be two
 * thread hops (result to the scheduler's thread, successor back) around one statement; here the worker thread
 * runs that same statement (recordEventsIn with a slot handoff, written by scheduler code and guarded exactly
 * as on the scheduler's thread) and starts the successor itself. The scheduler learns of both afterwards and
 * keeps heartbeating, timing out and cancelling the successor as if it had launched it.
 *
 * Anything unusual (no chain successor, a result over the XCom cap, the guarded update refused, the database
 * unreachable) returns `recorded: false` or a null successor, and the regular path takes over: this is an
 * optimisation of the common case, never a second set of rules.
 */
export async function takeChainEdge(sql: SqlRunner, settings: ChainSettings, spec: AttemptSpec, next: SerializedTask, result: unknown): Promise<ChainEdge> {
  const chain = spec.chain
  if (!chain) return { recorded: false }
  const json = JSON.stringify(result ?? null)
  if (Buffer.byteLength(json) > settings.xcomMaxBytes) return { recorded: false }
  // XCom semantics for the successor's input: what it would read back from the database.
  const value: unknown = JSON.parse(json)
  const finished = {
    tiId: spec.tiId,
    tryNumber: spec.tryNumber,
    maxTries: spec.maxTries,
    runPk: chain.runPk,
    taskId: spec.taskId,
    mapIndex: spec.mapIndex,
    task: spec.task,
    ok: true,
    result: value,
    nonRetryable: false,
    // The attempt's log stays with the scheduler, which appends it with its next heartbeat.
    reason: null,
    log: '',
  }
  const handoff = { from_id: spec.tiId, run: chain.runPk, task_id: next.task_id, ups: [] }
  const recorded = await recordEventsIn(sql, settings.schedulerId, [], [finished], settings.xcomMaxBytes, [handoff])
  if (!recorded.succeeded.has(spec.tiId)) return { recorded: false }
  const row = recorded.handed[0]
  return { recorded: true, value, claim: row ? { attemptId: row.attempt_id ?? 0, tiId: row.id, tryNumber: row.try_number, maxTries: row.max_tries } : null }
}

/**
 * The successor's attempt spec, built the same way on both sides of the thread boundary: the thread starts it,
 * and the scheduler's side rebuilds it from the small claim message instead of receiving a copy.
 */
export function successorSpec(spec: AttemptSpec, next: SerializedTask, claim: ChainClaim, value: unknown): AttemptSpec {
  return {
    ...spec,
    key: `${claim.tiId}:${claim.tryNumber}`,
    attemptId: claim.attemptId,
    tiId: claim.tiId,
    tryNumber: claim.tryNumber,
    maxTries: claim.maxTries,
    infraFailures: 0,
    maxInfraRetries: next.infra_retries,
    previousDetails: null,
    handoff: null,
    taskId: next.task_id,
    mapIndex: -1,
    task: next,
    inputs: resolveInputs(next.inputs, (t) => (t === spec.taskId ? value : undefined)),
    item: null,
  }
}
