import { sql } from 'kysely'
import type { Db, Trx } from './database.ts'

/** Wakes the other schedulers (LISTEN 'forge'): there is work this one left unclaimed, or a run finished. */
export async function notifyScheduled(trx: Db | Trx): Promise<void> {
  await sql`select pg_notify('forge', 'scheduled')`.execute(trx)
}
