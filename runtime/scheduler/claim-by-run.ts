import { RunState } from '../model/states.ts'
import type { Db } from '../store/database.ts'
import type { ClaimedRow } from '../store/attempt-load.ts'
import { executorOf } from '../model/executor-names.ts'
import { claimPerExecutor, runsWithScheduledTasks, type ExecutorWant } from '../store/claim.ts'
import { failRunIn } from '../store/run-fail.ts'
import { runNames } from '../store/run.repo.ts'
import { isRunsOwnFault } from './fail-run.ts'

export interface ClaimByRunResult {
  claimed: ClaimedRow[]
  failedRuns: Array<{ id: number; dag_id: string; run_id: string; state: RunState }>
}

/**
 * For when the claim of every run at once has failed: claims run by run, each in a transaction of its own, so that
 * an instance that makes the claim statement fail blocks only its own run. That run is failed with the reason
 * (its unstarted instances are removed, so the next regular claim works again); a database error fails no run and
 * is thrown. Priority order across runs is not kept here: this path is rare, and every run gets its turn.
 */
export async function claimRunByRun(
  db: Db,
  schedulerId: string,
  wants: ExecutorWant[],
  defaultExecutor: string,
  onlyRunPk?: number,
): Promise<ClaimByRunResult> {
  const result: ClaimByRunResult = { claimed: [], failedRuns: [] }
  const left = new Map(wants.map((w) => [w.executor, w.capacity]))
  for (const runPk of await runsWithScheduledTasks(db, onlyRunPk)) {
    if ([...left.values()].every((n) => n <= 0)) break
    try {
      const open = [...left].map(([executor, capacity]) => ({ executor, capacity }))
      const got = await db.transaction().execute((trx) => claimPerExecutor(trx, schedulerId, open, defaultExecutor, runPk))
      for (const c of got) left.set(executorOf(c.executor, defaultExecutor), left.get(executorOf(c.executor, defaultExecutor))! - 1)
      result.claimed.push(...got)
    } catch (err) {
      if (!isRunsOwnFault(err)) throw err
      const reason = `could not be claimed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 2000)
      const run = await db.transaction().execute(async (trx) => {
        if (!(await failRunIn(trx, runPk, reason))) return undefined
        return runNames(trx, runPk)
      })
      if (run) result.failedRuns.push({ ...run, state: RunState.Failed })
    }
  }
  return result
}
