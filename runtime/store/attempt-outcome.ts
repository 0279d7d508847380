import { sql } from 'kysely'
import { FailureClass } from '../model/failure.ts'
import type { Outlet } from './attempt-outlets.ts'
import { recordEventsIn, type Finished, type Handoff, type Recorded } from './attempt-record.ts'
import type { AttemptSpec } from './attempt-spec.ts'
import type { Db } from './database.ts'

/** How an attempt ended, as its runner (or its executor, for a runner that died) reports it. */
export type AttemptOutcome =
  | { ok: true; result: unknown; outlets?: Outlet[]; codeDigest?: string }
  | {
      ok: false
      /** The code digest the attempt ran, when it got as far as loading its code. */
      codeDigest?: string
      /** The whole error (a stack), for the log. */
      error: string
      /** One line for people, recorded as the reason. */
      reason: string
      nonRetryable: boolean
      failureClass: FailureClass
      /** Stopped by a clean shutdown: up for retry at once, spending nothing. */
      requeue?: boolean
    }

/** Who the handed successors are claimed for when the instance records no claimer. */
const NO_CLAIMER = 'runner'

/**
 * Records attempts' outcomes in one transaction, each under its attempt's guard (attempt-record-sql.ts), with the
 * failure class, XCom (capped at `xcomMaxBytes`), outlets and a slot handoff to the successor the spec names.
 * An outcome whose attempt is no longer current changes nothing. Schedulers hear of it by NOTIFY, so that the run
 * is decided and a handed successor launched without waiting for a poll.
 */
export async function recordOutcomes(db: Db, items: Array<{ spec: AttemptSpec; outcome: AttemptOutcome }>, xcomMaxBytes: number): Promise<Recorded> {
  if (items.length === 0) return { runs: new Set(), succeeded: new Set(), handed: [] }
  const finished = items.map(({ spec, outcome }) => toFinished(spec, outcome))
  const handoffs: Handoff[] = items.flatMap(({ spec, outcome }) =>
    outcome.ok && spec.handoff ? [{ from_id: spec.tiId, run: spec.runPk, task_id: spec.handoff.task_id, ups: spec.handoff.ups }] : [],
  )
  return db.transaction().execute(async (trx) => {
    const claimer = handoffs.length ? await claimerNow(trx, items[0]!.spec) : (items[0]!.spec.claimedBy ?? NO_CLAIMER)
    const recorded = await recordEventsIn(trx, claimer, [], finished, xcomMaxBytes, handoffs)
    // Which code ran: only the runner knows, and it reports one attempt at a time, so this stays off the hot path.
    for (const { spec, outcome } of items) {
      if (outcome.codeDigest)
        await trx
          .updateTable('task_attempt')
          .set({ code_digest: outcome.codeDigest })
          .where('task_instance_id', '=', spec.tiId)
          .where('try_number', '=', spec.tryNumber)
          .execute()
    }
    for (const run of recorded.runs) await sql`select pg_notify('forge', ${`recorded:${run}`})`.execute(trx)
    return recorded
  })
}

/**
 * Who handed successors of one batch are claimed for: the instances' claimer, which all share in practice, as it
 * is now. The runner's spec says who claimed it when it loaded, but a scheduler that died since has had its
 * attempts adopted: a successor claimed for it would be requeued as an orphan, an attempt that never ran.
 */
async function claimerNow(trx: Db, spec: AttemptSpec): Promise<string> {
  const row = await trx.selectFrom('task_instance').select('claimed_by').where('id', '=', spec.tiId).forUpdate().executeTakeFirst()
  return row?.claimed_by ?? spec.claimedBy ?? NO_CLAIMER
}

/** recordOutcomes for one attempt; true when it was recorded, false when its guard refused it. */
export async function recordOutcome(
  db: Db,
  spec: AttemptSpec,
  outcome: AttemptOutcome,
  xcomMaxBytes: number,
): Promise<{ recorded: boolean; handed: Recorded['handed'] }> {
  const r = await recordOutcomes(db, [{ spec, outcome }], xcomMaxBytes)
  return { recorded: r.runs.size > 0, handed: r.handed }
}

/** What the record statements take for an attempt's outcome (the one mapping from a spec and an outcome). */
export function toFinished(spec: AttemptSpec, outcome: AttemptOutcome): Finished {
  return {
    tiId: spec.tiId,
    tryNumber: spec.tryNumber,
    maxTries: spec.maxTries,
    runPk: spec.runPk,
    taskId: spec.taskId,
    mapIndex: spec.mapIndex,
    task: spec.task,
    ok: outcome.ok,
    result: outcome.ok ? outcome.result : undefined,
    nonRetryable: outcome.ok ? false : outcome.nonRetryable,
    requeue: !outcome.ok && outcome.requeue === true,
    failureClass: outcome.ok ? undefined : outcome.failureClass,
    infraFailures: spec.infraFailures,
    maxInfraRetries: spec.maxInfraRetries,
    reason: outcome.ok ? null : outcome.reason,
    // The log travels in chunks of its own (attempt-log.ts).
    log: '',
    outlets: outcome.ok && outcome.outlets?.length ? { dagId: spec.dagId, runId: spec.runId, items: outcome.outlets } : undefined,
  }
}
