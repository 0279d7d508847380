import { downstreamTasks, type SerializedDag, type SerializedTask } from '../dag/serialize.ts'

/** Successors with more upstream tasks than this are decided the regular way. */
const MAX_HANDOFF_UPSTREAMS = 8

/** A successor that may take over its upstream's slot when that upstream succeeds (Handoff in store/attempt-record.ts). */
export interface SlotSuccessor {
  task_id: string
  /** The successor's other upstream task ids, which must all have succeeded. */
  ups: string[]
}

/**
 * Whether `to` may take over `from`'s slot when `from` succeeds: it uses all_success, is unmapped, needs no more
 * than `from`'s slots of the same pool, so no cap can grow, and runs on the same executor, whose slot it is.
 */
export function inheritsSlot(from: SerializedTask, to: SerializedTask): boolean {
  return (
    to.trigger_rule === 'all_success' &&
    to.map_over == null &&
    to.pool === from.pool &&
    to.pool_slots <= from.pool_slots &&
    (to.executor ?? null) === (from.executor ?? null)
  )
}

/**
 * The successor an unmapped task's success hands its slot to: its first downstream task that inherits the slot.
 * Wide joins are left to the regular decision: checking hundreds of upstreams per result costs more in SQL (and
 * almost never succeeds before the last of them) than the round trip it could save.
 */
export function slotSuccessor(dag: SerializedDag, from: SerializedTask, mapIndex: number): SlotSuccessor | null {
  if (mapIndex !== -1 || from.map_over != null) return null
  const next = downstreamTasks(dag, from.task_id).find((d) => inheritsSlot(from, d) && d.upstream.length <= MAX_HANDOFF_UPSTREAMS)
  return next ? { task_id: next.task_id, ups: next.upstream.filter((u) => u !== from.task_id) } : null
}
