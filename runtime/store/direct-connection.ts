import type { CompiledQuery } from 'kysely'
import pg from 'pg'
import { pgTypes, withPlannerSettings } from './connect.ts'
import { prepareMarkedStatements } from './prepared.ts'

/** What the record statements need to run (complete.ts): a Kysely Db or transaction, or a DirectConnection. */
export interface SqlRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<{ rows: R[] }>
}

/**
 * One Postgres connection without a pool or Kysely around it, for a worker thread that runs one statement per chain
 * edge (runtime/scheduler/chain-edge.ts). Through a one-connection Kysely pool the same statement took about 0.1 ms
 * longer (acquire and release per query, the driver's wrappers); the edge is otherwise one round trip.
 * Same settings as the scheduler's connections: marked statements prepared, the planner setting, int8 as numbers.
 * A connection that fails is dropped; the next query opens a new one.
 */
export class DirectConnection implements SqlRunner {
  private client: Promise<pg.Client> | null = null

  constructor(private url: string) {}

  async executeQuery<R>(query: CompiledQuery<R>): Promise<{ rows: R[] }> {
    const client = await (this.client ??= this.connect())
    const result = await client.query(query.sql, query.parameters as unknown[])
    return { rows: result.rows as R[] }
  }

  private connect(): Promise<pg.Client> {
    const client = new pg.Client({ ...withPlannerSettings(this.url), types: pgTypes })
    const connected = client.connect().then(() => client)
    // Forget this client once it fails or ends, but never a newer one opened meanwhile.
    const drop = () => {
      if (this.client === connected) this.client = null
      void client.end().catch(() => {})
    }
    client.on('error', drop)
    client.on('end', drop)
    prepareMarkedStatements(client)
    connected.catch(drop)
    return connected
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => null)
    this.client = null
    await client?.end().catch(() => {})
  }
}
