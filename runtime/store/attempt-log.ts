import { sql } from 'kysely'
import type { Db } from './database.ts'

/** One piece of an attempt's log, numbered from 1 in the order it was written. */
export interface LogChunk {
  seq: number
  text: string
}

/**
 * Appends chunks to an attempt's log. A chunk already stored under its number is kept as it is, so a writer that
 * retries after a lost answer stores nothing twice; nothing is ever rewritten. No attempt guard: a late attempt's
 * lines belong to its own row, never to its retry's, and are worth keeping.
 */
export async function appendLogChunks(db: Db, attemptId: number, chunks: LogChunk[]): Promise<void> {
  if (chunks.length === 0) return
  await db
    .insertInto('task_log_chunk')
    .values(chunks.map((c) => ({ attempt_id: attemptId, seq: c.seq, text: c.text })))
    .onConflict((oc) => oc.columns(['attempt_id', 'seq']).doNothing())
    .execute()
}

/**
 * The highest chunk number a runner wrote to an attempt's log, 0 for none: a runner continues after it. The
 * chunks the store numbers (STORE_NUMBERED_SEQ and up) do not count, or the runner would number its chunks among them.
 */
export async function lastLogSeq(db: Db, attemptId: number): Promise<number> {
  const row = await db
    .selectFrom('task_log_chunk')
    .select(sql<number>`coalesce(max(seq), 0)::int`.as('seq'))
    .where('attempt_id', '=', attemptId)
    .where('seq', '<', STORE_NUMBERED_SEQ)
    .executeTakeFirst()
  return Number(row?.seq ?? 0)
}

/** The chunks after `afterSeq`, in order: `forge logs --follow` reads what is new since its last read. */
export async function readLogChunks(db: Db, attemptId: number, afterSeq = 0): Promise<LogChunk[]> {
  return db
    .selectFrom('task_log_chunk')
    .select(['seq', 'text'])
    .where('attempt_id', '=', attemptId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .execute()
}

/** Where a follower of a log has read to: the runner's chunks and the store's are numbered apart, so each has its own. */
export interface LogCursor {
  runner: number
  store: number
}

/**
 * The chunks written since `cursor`, the runner's then the store's, and where the next read starts: `forge logs
 * --follow`. One number would not do: a note (numbered from STORE_NUMBERED_SEQ) read first would hide every runner
 * chunk written after it, numbered below.
 */
export async function readNewLogChunks(
  db: Db,
  attemptId: number,
  cursor: LogCursor = { runner: 0, store: STORE_NUMBERED_SEQ },
): Promise<{ chunks: LogChunk[]; cursor: LogCursor }> {
  const chunks = await db
    .selectFrom('task_log_chunk')
    .select(['seq', 'text'])
    .where('attempt_id', '=', attemptId)
    .where((eb) => eb.or([eb.and([eb('seq', '>', cursor.runner), eb('seq', '<', STORE_NUMBERED_SEQ)]), eb('seq', '>', cursor.store)]))
    .orderBy('seq')
    .execute()
  const last = (pick: (seq: number) => boolean, from: number) => Math.max(from, ...chunks.map((c) => c.seq).filter(pick))
  return {
    chunks,
    cursor: { runner: last((s) => s < STORE_NUMBERED_SEQ, cursor.runner), store: last((s) => s >= STORE_NUMBERED_SEQ, cursor.store) },
  }
}

/**
 * The whole log of the attempt row `alias` as one text column: the text of rows recorded before logs were chunked,
 * then its chunks in order. For reading a finished attempt at once; a reader that follows uses readLogChunks.
 */
export function wholeLog(alias: 'a' | 'task_attempt') {
  return sql<string>`${sql.ref(`${alias}.log`)} || coalesce((select string_agg(c.text, '' order by c.seq) from task_log_chunk c where c.attempt_id = ${sql.ref(`${alias}.id`)}), '')`
}

/**
 * Chunks the store numbers itself (an executor's notes, a scheduler's closing line, a thread's output) are
 * numbered from here, after the runner's own (which it numbers from 1, so that a retried write stores nothing
 * twice): STORE_NUMBERED_SEQ plus the attempt row's `log_appends`, which the inserting statement bumps. Writers at
 * once wait on that row and each gets a number of its own (migration 0011).
 */
export const STORE_NUMBERED_SEQ = 1_000_000_000

/** Appends a note from the attempt's executor (a pod's event, a crashed worker's last output). */
export async function appendExecutorNote(db: Db, attemptId: number, text: string): Promise<void> {
  const r = await sql`with a as (update task_attempt a set log_appends = a.log_appends + 1 where a.id = ${attemptId} returning a.id, a.log_appends)
    insert into task_log_chunk (attempt_id, seq, text) select a.id, ${STORE_NUMBERED_SEQ} + a.log_appends, ${text} from a returning seq`.execute(db)
  if (r.rows.length === 0) throw new Error(`attempt ${attemptId}: no such attempt, so no log to note in`)
}
