import type { CompiledQuery } from 'kysely'
import pg from 'pg'
import { connectionConfig } from './connect.ts'
import { prepareMarkedStatements } from './prepared.ts'

/** What the record statements need to run (attempt-record.ts): a Kysely Db or transaction, or a DirectConnection. */
export interface SqlRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<{ rows: R[] }>
}

/**
 * One Postgres connection without a pool or Kysely around it, for a worker thread that runs one statement per chain
 * edge (runtime/scheduler/chain-edge.ts). Through a one-connection Kysely pool the same statement took about 0.1 ms
 * longer (acquire and release per query, the driver's wrappers); the edge is otherwise one round trip.
 * Same settings as the scheduler's connections: marked statements prepared, the planner setting, int8 as numbers.
 * A connection that fails, or whose query gets no answer within `queryTimeoutMs` (a half-open TCP connection never
 * fails by itself), is dropped and the query rejected; the next query opens a new connection. The caller's edge
 * then goes back to the scheduler's own path.
 */
export class DirectConnection implements SqlRunner {
  private client: Promise<pg.Client> | null = null

  constructor(
    private url: string,
    private queryTimeoutMs = 30_000,
  ) {}

  async executeQuery<R>(query: CompiledQuery<R>): Promise<{ rows: R[] }> {
    const connecting = (this.client ??= this.connect())
    const client = await connecting
    try {
      const result = await client.query(query.sql, query.parameters as unknown[])
      return { rows: result.rows as R[] }
    } catch (err) {
      // An error from the server leaves the connection usable; anything else (a timeout, a broken socket) does not.
      if (!(err instanceof pg.DatabaseError)) this.drop(connecting, client)
      throw err
    }
  }

  private connect(): Promise<pg.Client> {
    const client = new pg.Client({ ...connectionConfig(this.url), query_timeout: this.queryTimeoutMs })
    const connected = client.connect().then(() => client)
    client.on('error', () => this.drop(connected, client))
    client.on('end', () => this.drop(connected, client))
    prepareMarkedStatements(client)
    connected.catch(() => this.drop(connected, client))
    return connected
  }

  /** Forgets `client` (never a newer one opened meanwhile) and closes its socket. */
  private drop(connected: Promise<pg.Client>, client: pg.Client): void {
    if (this.client === connected) this.client = null
    // Destroyed rather than ended: ending waits for the server, which may be the thing not answering.
    const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream
    if (stream) stream.destroy()
    else void client.end().catch(() => {})
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => null)
    this.client = null
    await client?.end().catch(() => {})
  }
}
