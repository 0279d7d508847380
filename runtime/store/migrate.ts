import { sql } from 'kysely'
import type { Db } from './database.ts'
import { sql0001 } from './migrations/0001-initial.ts'
import { sql0002 } from './migrations/0002-gpu-pool.ts'
import { sql0003 } from './migrations/0003-run-task-index.ts'
import { sql0004 } from './migrations/0004-run-reason.ts'
import { sql0005 } from './migrations/0005-runner.ts'
import { sql0006 } from './migrations/0006-code-identity.ts'
import { sql0008 } from './migrations/0008-datasets.ts'
import { sql0009 } from './migrations/0009-executor.ts'
import { sql0010 } from './migrations/0010-default-executor.ts'
import { sql0011 } from './migrations/0011-log-appends.ts'

/** Ordered, append-only. Never edit a released migration: add the next one. */
export const MIGRATIONS: ReadonlyArray<{ id: number; name: string; sql: string }> = [
  { id: 1, name: 'initial', sql: sql0001 },
  { id: 2, name: 'gpu-pool', sql: sql0002 },
  { id: 3, name: 'run-task-index', sql: sql0003 },
  { id: 4, name: 'run-reason', sql: sql0004 },
  { id: 5, name: 'runner', sql: sql0005 },
  { id: 6, name: 'code-identity', sql: sql0006 },
  { id: 8, name: 'datasets', sql: sql0008 },
  { id: 9, name: 'executor', sql: sql0009 },
  { id: 10, name: 'default-executor', sql: sql0010 },
  { id: 11, name: 'log-appends', sql: sql0011 },
]

// An arbitrary constant so every forge process agrees on the lock; 'forge' in ASCII.
const MIGRATION_LOCK = 0x666f726765

export interface MigrateResult {
  applied: string[]
  /** Set when the database has migrations this build does not know: refuse to run against it. */
  aheadBy: number
}

/**
 * Applies pending migrations in one transaction behind a transaction-scoped advisory lock, so processes that start
 * at once queue up and the later ones find nothing to do (graphile-worker's migrate.ts, kysely's Migrator).
 * The marker table is created inside the lock too: `create table if not exists` alone races.
 */
export async function migrate(db: Db): Promise<MigrateResult> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx)
    await sql`create table if not exists forge_migration (id integer primary key, name text not null,
      applied_at timestamptz not null default now())`.execute(trx)
    const done = await sql<{ id: number }>`select id from forge_migration`.execute(trx)
    const doneIds = new Set(done.rows.map((r) => Number(r.id)))
    const known = new Set(MIGRATIONS.map((m) => m.id))
    const aheadBy = [...doneIds].filter((id) => !known.has(id)).length
    if (aheadBy > 0) return { applied: [], aheadBy }
    const applied: string[] = []
    for (const m of MIGRATIONS) {
      if (doneIds.has(m.id)) continue
      await sql`insert into forge_migration (id, name) values (${m.id}, ${m.name})`.execute(trx)
      // One statement per query: PGlite's extended protocol refuses several in one.
      for (const statement of splitStatements(m.sql)) await sql.raw(statement).execute(trx)
      applied.push(`${String(m.id).padStart(4, '0')}-${m.name}`)
    }
    return { applied, aheadBy: 0 }
  })
}

/** Our migrations hold no function bodies, so a semicolon at a line end always ends a statement. */
function splitStatements(text: string): string[] {
  return text
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean)
}
