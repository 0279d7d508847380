import { downstreamTasks, type SerializedDag, type SerializedTask } from '../dag/serialize.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db } from '../store/database.ts'
import { referencedTasks, type SpecCache } from './claim.ts'
import type { Finished, Handoff } from './complete.ts'

/** Successors with more upstream tasks than this are decided the regular way. */
const MAX_HANDOFF_UPSTREAMS = 8

/**
 * Whether `to` may take over `from`'s slot when `from` succeeds: it uses all_success, is unmapped, and needs no
 * more than `from`'s slots of the same pool, so no cap can grow (see Handoff in complete.ts).
 */
function inheritsSlot(from: SerializedTask, to: SerializedTask): boolean {
  return to.trigger_rule === 'all_success' && to.map_over == null && to.pool === from.pool && to.pool_slots <= from.pool_slots
}

async function downstreamOf(db: Db, cache: SpecCache, f: Finished): Promise<SerializedTask[]> {
  const run = cache.runs.get(f.runPk)
  if (!run) return []
  return downstreamTasks(await getDagVersion(db, run.dag_version_id), f.taskId)
}

/**
 * Proposes slot handoffs (see Handoff in complete.ts): for each success of an unmapped task, its first successor
 * that uses all_success, is unmapped and fits in the same pool slot. Wide joins are left to the regular decision:
 * checking hundreds of upstreams per result costs more in SQL (and almost never succeeds before the last of them)
 * than the round trip it could save.
 */
export async function planHandoffs(db: Db, cache: SpecCache, finished: Finished[]): Promise<Handoff[]> {
  const out: Handoff[] = []
  for (const f of finished) {
    if (!f.ok || f.mapIndex !== -1) continue
    const next = (await downstreamOf(db, cache, f)).find((d) => inheritsSlot(f.task, d) && d.upstream.length <= MAX_HANDOFF_UPSTREAMS)
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
    const sole = handedFrom.has(f.tiId) && (await downstreamOf(db, cache, f)).length === 1
    if (!sole && changedRuns.has(f.runPk)) out.add(f.runPk)
  }
  return out
}

/**
 * The successor of a pure chain link, or null: `from`'s only downstream task, which has `from` as its only
 * upstream, reads no other task's result, uses all_success, is unmapped, runs on a worker thread and fits in
 * `from`'s pool slot. Such an edge is recorded and handed off by the worker thread that ran `from` (see
 * chain-edge.ts): nothing else in the run can change when it is taken, so no decision pass is needed.
 */
export function chainSuccessor(dag: SerializedDag, from: SerializedTask): SerializedTask | null {
  if (from.map_over != null) return null
  const next = downstreamTasks(dag, from.task_id)
  if (next.length !== 1) return null
  const b = next[0]!
  if (!inheritsSlot(from, b) || b.kind !== 'function' || b.isolation !== 'thread') return null
  if (b.upstream.length !== 1 || referencedTasks(b).some((t) => t !== from.task_id)) return null
  return b
}
