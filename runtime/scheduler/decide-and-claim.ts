import type { Trx } from '../store/database.ts'
import type { ClaimedRow } from '../store/attempt-load.ts'
import { claimPerExecutor, type ExecutorWant } from '../store/claim.ts'
import { executorOf } from '../model/executor-names.ts'
import { notifyScheduled } from '../store/notify-scheduled.ts'
import { claimRunByRun } from './claim-by-run.ts'
import { decideIn, type DecideResult } from './decide-tasks.ts'
import { executorWants } from './executors.ts'
import type { SchedulerState } from './state.ts'

/**
 * Decides the runs that changed (all active runs on a `scan`) and claims what became runnable, in one
 * transaction, claiming for each executor no more than it can start now. A pass that fails is redone apart, so that
 * neither one run nor the claim can stop every other run: each run's decision in a savepoint of its own (a run at
 * fault is failed with the reason), then the claim, then, if the claim still fails, a claim run by run.
 */
export async function decideAndClaim(
  s: SchedulerState,
  now: Date,
  opts: { scan: boolean; claim: boolean },
): Promise<{ decided: DecideResult; claimed: ClaimedRow[] }> {
  const none: DecideResult = { changed: 0, scheduled: 0, finishedRuns: [], retryAt: new Map() }
  if (!opts.scan && s.dirty.size === 0 && !opts.claim) return { decided: none, claimed: [] }
  const db = s.store.db
  const dirtyBefore = [...s.dirty]
  const decide = (trx: Trx, isolate: boolean) =>
    decideIn(trx, s.dirty, now, { onlyRunPk: s.onlyRunPk, scan: opts.scan, maxMapWidth: s.config.maxMapWidth, isolate })
  const claim = async (trx: Trx, d: DecideResult) => {
    const wants = await executorWants(s)
    const c = opts.claim || d.scheduled > 0 ? await claimPerExecutor(trx, s.id, wants, s.defaultExecutor, s.onlyRunPk) : []
    s.hints.claim = filledAny(s, wants, c)
    // Wake other schedulers only for work this one left unclaimed, or a finished run that may free a queued one.
    if (d.scheduled > c.length || d.finishedRuns.length > 0) await notifyScheduled(trx)
    return c
  }
  try {
    return await db.transaction().execute(async (trx) => {
      const decided = await decide(trx, false)
      return { decided, claimed: await claim(trx, decided) }
    })
  } catch {
    for (const id of dirtyBefore) s.dirty.add(id)
    const decided = await db.transaction().execute((trx) => decide(trx, true))
    try {
      return { decided, claimed: await db.transaction().execute((trx) => claim(trx, decided)) }
    } catch (claimErr) {
      s.emit({ type: 'scheduler:error', error: claimErr as Error })
      const byRun = await claimRunByRun(db, s.id, await executorWants(s), s.defaultExecutor, s.onlyRunPk)
      decided.finishedRuns.push(...byRun.failedRuns)
      s.hints.claim = true
      return { decided, claimed: byRun.claimed }
    }
  }
}

/** Whether some executor took all it could: more may be waiting for it, so the next pass claims again. */
function filledAny(s: SchedulerState, wants: ExecutorWant[], claimed: ClaimedRow[]): boolean {
  const got = new Map<string, number>()
  for (const c of claimed) {
    const name = executorOf(c.executor, s.defaultExecutor)
    got.set(name, (got.get(name) ?? 0) + 1)
  }
  return wants.some((w) => w.capacity > 0 && (got.get(w.executor) ?? 0) >= w.capacity)
}
