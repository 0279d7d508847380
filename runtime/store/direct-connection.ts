import type { CompiledQuery } from 'kysely'

/** What the record statements need to run (attempt-record.ts): a Kysely Db or transaction. */
export interface SqlRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<{ rows: R[] }>
}
