import { downstreamTasks, type SerializedDag, type SerializedTask } from '../dag/serialize.ts'
import { slotSuccessor } from '../model/slot-handoff.ts'
import type { SpecCache } from '../store/attempt-load.ts'
import type { Finished, Handoff } from '../store/attempt-record.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db } from '../store/database.ts'

async function dagOf(db: Db, cache: SpecCache, f: Finished): Promise<SerializedDag | null> {
  const run = cache.runs.get(f.runPk)
  return run ? getDagVersion(db, run.dag_version_id) : null
}

async function downstreamOf(db: Db, cache: SpecCache, f: Finished): Promise<SerializedTask[]> {
  const dag = await dagOf(db, cache, f)
  return dag ? downstreamTasks(dag, f.taskId) : []
}

/** Proposes slot handoffs (see Handoff in store/attempt-record.ts): for each success, model/slot-handoff.ts's successor. */
export async function planHandoffs(db: Db, cache: SpecCache, finished: Finished[]): Promise<Handoff[]> {
  const out: Handoff[] = []
  for (const f of finished) {
    if (!f.ok || f.mapIndex !== -1) continue
    const dag = await dagOf(db, cache, f)
    const next = dag ? slotSuccessor(dag, f.task, f.mapIndex) : null
    if (next) out.push({ from_id: f.tiId, run: f.runPk, task_id: next.task_id, ups: next.ups })
  }
  return out
}

/**
 * Runs that still need a regular decision after recording: all of them, except where every result was handed to
 * that task's only successor (then nothing else in the run can have changed).
 */
export async function runsToDecide(
  db: Db,
  cache: SpecCache,
  finished: Finished[],
  changedRuns: Set<number>,
  handedFrom: Set<number>,
): Promise<Set<number>> {
  const out = new Set<number>()
  for (const f of finished) {
    const sole = handedFrom.has(f.tiId) && (await downstreamOf(db, cache, f)).length === 1
    if (!sole && changedRuns.has(f.runPk)) out.add(f.runPk)
  }
  return out
}
