import { downstreamTasks, type SerializedDag, type SerializedTask } from '../dag/serialize.ts'

/** Successors with more upstream tasks than this are decided the regular way. */
const MAX_HANDOFF_UPSTREAMS = 8

/**
 * Whether `to` may take over `from`'s slot when `from` succeeds: it uses all_success, is unmapped, and needs no
 * more than `from`'s slots of the same pool, so no cap can grow.
 */
export function inheritsSlot(from: SerializedTask, to: SerializedTask): boolean {
  return to.trigger_rule === 'all_success' && to.map_over == null && to.pool === from.pool && to.pool_slots <= from.pool_slots
}

/**
 * The successor a success of `from` may hand its slot to (claimed in the statement that records the success), or
 * null: the first downstream task that inherits the slot and has few upstreams. Wide joins are left to the regular
 * decision: checking hundreds of upstreams per result costs more in SQL (and almost never succeeds before the
 * last of them) than the round trip it could save. Mapped instances hand off nothing.
 */
export function handoffSuccessor(dag: SerializedDag, from: SerializedTask, mapIndex: number): SerializedTask | null {
  if (mapIndex !== -1) return null
  return downstreamTasks(dag, from.task_id).find((d) => inheritsSlot(from, d) && d.upstream.length <= MAX_HANDOFF_UPSTREAMS) ?? null
}
