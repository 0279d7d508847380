import { sql } from 'kysely'
import type { RunDecision } from '../model/decide-run.ts'
import { TaskState } from '../model/states.ts'
import { allowedFrom } from '../model/transitions.ts'
import type { Trx } from './database.ts'
import { PREPARE } from './prepared.ts'

/** Set-based: one prepared UPDATE per target state, guarded by the states the model allows it from. */
export async function applyTaskUpdates(trx: Trx, updates: RunDecision['updates']): Promise<void> {
  const groups = new Map<string, typeof updates>()
  for (const u of updates) {
    const k = `${u.to}|${u.reason ?? ''}`
    const group = groups.get(k)
    if (group) group.push(u)
    else groups.set(k, [u])
  }
  for (const group of groups.values()) {
    const { to, reason } = group[0]!
    const from = allowedFrom(to)
    const fromStates = from.filter((s): s is TaskState => s !== null)
    await sql`${sql.raw(PREPARE)}
      update task_instance set state = ${to}, updated_at = now(), reason = coalesce(${reason ?? null}::text, reason),
        end_date = case when ${to}::text = 'scheduled' then end_date else now() end
      where id = any(${group.map((u) => u.id)}::int[])
        and (state = any(${fromStates}::text[]) or (${from.includes(null)}::boolean and state is null))`.execute(trx)
  }
}
