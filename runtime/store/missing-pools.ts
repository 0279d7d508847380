import { sql } from 'kysely'
import type { Db } from './database.ts'

/** A task naming a pool that does not exist waits forever; say so on the instance, where `forge tasks list` shows it. */
export async function flagMissingPools(db: Db): Promise<void> {
  await sql`update task_instance ti set reason = 'waiting: pool "' || ti.pool || '" does not exist; create it or fix the task''s pool'
    where ti.state = 'scheduled' and ti.reason is null and not exists (select 1 from pool p where p.name = ti.pool)`.execute(db)
}
