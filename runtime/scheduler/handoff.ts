import { downstreamTasks } from '../dag/serialize.ts'
import { handoffSuccessor } from '../model/handoff.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db } from '../store/database.ts'
import type { SpecCache } from './claim.ts'
import type { Finished, Handoff } from './complete.ts'

async function dagOf(db: Db, cache: SpecCache, runPk: number) {
  const run = cache.runs.get(runPk)
  return run ? getDagVersion(db, run.dag_version_id) : null
}

/** Proposes slot handoffs (see Handoff in complete.ts; the rule is model/handoff.ts) for these results. */
export async function planHandoffs(db: Db, cache: SpecCache, finished: Finished[]): Promise<Handoff[]> {
  const out: Handoff[] = []
  for (const f of finished) {
    if (!f.ok) continue
    const dag = await dagOf(db, cache, f.runPk)
    const next = dag && handoffSuccessor(dag, f.task, f.mapIndex)
    if (next) out.push({ from_id: f.tiId, run: f.runPk, task_id: next.task_id, ups: next.upstream.filter((u) => u !== f.taskId) })
  }
  return out
}

/**
 * Runs that still need a regular decision after recording: all of them, except where every result was handed to
 * that task's only successor (then nothing else in the run can have changed).
 */
export async function runsToDecide(db: Db, cache: SpecCache, finished: Finished[], changedRuns: Set<number>, handedFrom: Set<number>): Promise<Set<number>> {
  const out = new Set<number>()
  for (const f of finished) {
    const dag = handedFrom.has(f.tiId) ? await dagOf(db, cache, f.runPk) : null
    const sole = dag !== null && downstreamTasks(dag, f.taskId).length === 1
    if (!sole && changedRuns.has(f.runPk)) out.add(f.runPk)
  }
  return out
}
