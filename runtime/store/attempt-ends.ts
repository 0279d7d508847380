import type { Db } from './database.ts'

export interface AttemptEnd {
  tiId: number
  tryNumber: number
  state: string
  reason: string | null
}

/** How attempts that their runners recorded ended (state and reason), for reporting them. */
export async function attemptEnds(db: Db, keys: ReadonlyArray<{ tiId: number; tryNumber: number }>): Promise<AttemptEnd[]> {
  if (keys.length === 0) return []
  const rows = await db
    .selectFrom('task_attempt')
    .select(['task_instance_id', 'try_number', 'state', 'reason'])
    .where((eb) => eb.or(keys.map((k) => eb.and([eb('task_instance_id', '=', k.tiId), eb('try_number', '=', k.tryNumber)]))))
    .execute()
  return rows.map((r) => ({ tiId: r.task_instance_id, tryNumber: r.try_number, state: r.state, reason: r.reason }))
}
