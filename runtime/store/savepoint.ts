import { sql } from 'kysely'
import type { Trx } from './database.ts'

/** Savepoints by name, so that one part of a transaction can fail without the rest (names are code constants). */
export async function savepoint(trx: Trx, name: string): Promise<void> {
  await sql`savepoint ${sql.id(name)}`.execute(trx)
}

export async function releaseSavepoint(trx: Trx, name: string): Promise<void> {
  await sql`release savepoint ${sql.id(name)}`.execute(trx)
}

export async function rollbackToSavepoint(trx: Trx, name: string): Promise<void> {
  await sql`rollback to savepoint ${sql.id(name)}`.execute(trx)
}
