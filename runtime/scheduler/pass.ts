import { createDatasetRuns } from './create-dataset-runs.ts'
import { startQueuedRuns } from '../store/queued-runs.ts'
import { createDueRuns } from './create-runs.ts'
import { decideAndClaim } from './decide-and-claim.ts'
import type { DecideResult } from './decide-tasks.ts'
import { launch, launchUnwatched } from './launch.ts'
import { recordResults } from './record-results.ts'
import { reportRecorded } from './report-recorded.ts'
import { forgetRun, type SchedulerState } from './state.ts'

/**
 * One pass over the scheduling steps; returns how much it did, so the loop knows whether to sleep. Recording
 * results, deciding the runs they touched and claiming what became runnable take one transaction each at most
 * (a chain edge costs one commit), and a step with nothing to look at does nothing; `periodic` passes look at
 * everything, so work another scheduler made runnable never waits longer than the poll interval.
 */
export async function schedulingPass(s: SchedulerState, now: Date, periodic: boolean): Promise<number> {
  promoteDueRetries(s, now)
  let work = 0
  if (!s.onlyRunPk && periodic) work += await createDueRuns(s.store.db, now)
  if (!s.onlyRunPk && (periodic || s.hints.datasets)) work += await createRunsForDatasets(s)
  if (periodic || s.hints.runsMayStart) work += await startRuns(s)
  const recorded = await recordResults(s)
  await reportRecorded(s)
  // Handed-off successors are committed as claimed, and nothing below concerns them.
  await launch(s, recorded.handed)
  if (s.hints.unwatched || periodic) work += await launchUnwatched(s)
  const scan = periodic || s.hints.scan
  s.hints.scan = false
  const { decided, claimed } = await decideAndClaim(s, now, { scan, claim: periodic || s.hints.claim || recorded.freed > 0 })
  work += recorded.count + recorded.handed.length + decided.changed + claimed.length + endRuns(s, decided)
  await launch(s, claimed)
  return work
}

/** Runs whose retry fell due are decided again now, not at the next scan. */
function promoteDueRetries(s: SchedulerState, now: Date): void {
  for (const [runPk, at] of s.retryDue) {
    if (at > now.getTime()) continue
    s.retryDue.delete(runPk)
    s.dirty.add(runPk)
  }
}

/** Dataset-scheduled DAGs get their runs for new dataset events (create-dataset-runs.ts). */
async function createRunsForDatasets(s: SchedulerState): Promise<number> {
  s.hints.datasets = false
  const created = await createDatasetRuns(s.store.db)
  if (created > 0) s.hints.runsMayStart = true
  return created
}

async function startRuns(s: SchedulerState): Promise<number> {
  s.hints.runsMayStart = false
  const started = await startQueuedRuns(s.store.db)
  if (started > 0) s.hints.scan = true
  return started
}

/** Notes retries and finished runs of a decision; a finished run may let a queued one start. */
function endRuns(s: SchedulerState, decided: DecideResult): number {
  for (const [runPk, at] of decided.retryAt) s.retryDue.set(runPk, at.getTime())
  for (const r of decided.finishedRuns) {
    s.hints.runsMayStart = true
    forgetRun(s, r.id)
    s.emit({ type: 'run:finished', dagId: r.dag_id, runId: r.run_id, state: r.state })
    if (r.id === s.onlyRunPk) s.stopping = true
  }
  return decided.finishedRuns.length
}
