import { sql } from 'kysely'
import pg from 'pg'
import { connectionConfig } from './connect.ts'
import type { Db } from './database.ts'

/**
 * The first key of the session-level advisory lock a runner holds on Postgres for its attempt's whole life
 * (`pg_advisory_lock(ATTEMPT_LOCK_CLASS, attemptId)`); 'forg' in ASCII. Postgres releases it the moment the
 * runner's connection dies, so a lock not held means the runner is gone, seconds before any heartbeat timeout.
 */
export const ATTEMPT_LOCK_CLASS = 0x666f7267

/** A held attempt lock; release() ends the session that holds it. */
export interface AttemptLock {
  release(): Promise<void>
}

/**
 * Takes the attempt's lock on a connection of its own (a pooled connection could be handed to other queries and
 * would keep the lock after the attempt). Null when another session holds it: another runner runs this attempt.
 */
export async function takeAttemptLock(url: string, attemptId: number): Promise<AttemptLock | null> {
  const client = new pg.Client(connectionConfig(url))
  // A dropped connection releases the lock; the runner notices through its heartbeat, which then fails.
  client.on('error', () => {})
  await client.connect()
  const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::int, $2::int) as ok', [ATTEMPT_LOCK_CLASS, attemptId])
  if (!r.rows[0]?.ok) {
    await client.end().catch(() => {})
    return null
  }
  return { release: () => client.end().catch(() => {}) }
}

/** Which of these attempts have a runner holding their lock, in this database (Postgres stores only). */
export async function attemptsWithLiveRunner(db: Db, attemptIds: number[]): Promise<Set<number>> {
  if (attemptIds.length === 0) return new Set()
  // The two-key form stores the keys as classid and objid, with objsubid 2.
  const r = await sql<{ objid: number }>`
    select l.objid::int as objid from pg_locks l
    where l.locktype = 'advisory' and l.granted and l.objsubid = 2 and l.classid = ${ATTEMPT_LOCK_CLASS}::oid
      and l.database = (select oid from pg_database where datname = current_database())
      and l.objid = any(${attemptIds.map(String)}::oid[])`.execute(db)
  return new Set(r.rows.map((x) => Number(x.objid)))
}
