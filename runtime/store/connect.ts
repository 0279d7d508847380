import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { ForgeConfig } from '../config.ts'
import type { Database, Db } from './database.ts'
import { acquireHomeLock } from './home-lock.ts'
import { prepareMarkedStatements } from './prepared.ts'

/**
 * A store is Kysely plus the two things Kysely does not cover: LISTEN/NOTIFY and closing the driver. The same
 * repositories run on both drivers; only this file knows which one is underneath.
 */
export interface Store {
  readonly db: Db
  readonly kind: 'postgres' | 'pglite'
  /** The connection string of a Postgres store, for connections of its own (a worker thread's). */
  readonly url?: string
  /** Calls `onMessage` for each NOTIFY on `channel`; resolves once listening. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

// int8 (count(*), sums) as numbers: every id here fits in 2^53, and one row mapper serves both drivers.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format as 'text')
  },
} as pg.CustomTypesConfig

/**
 * The hot statements are prepared, and Postgres keeps a prepared statement's generic plan until the table's
 * statistics change. Planned while the tables were small (a fresh database, a quiet night), that plan scans
 * task_instance sequentially and stays that way as the table grows: in the scheduler benchmark a chain edge took
 * 1.6–2.1 ms so, and 1.1–1.4 ms with random_page_cost at 1.1 (the usual setting for SSDs, against the default 4),
 * where primary-key and (run, task) lookups win at every table size. Set in the startup packet (libpq's
 * `options`), so it costs no query; options already in the URL are kept.
 */
function withPlannerSettings(url: string): { connectionString: string; options: string } {
  const ours = '-c random_page_cost=1.1'
  try {
    const u = new URL(url)
    const theirs = u.searchParams.get('options')
    u.searchParams.delete('options')
    return { connectionString: u.toString(), options: theirs ? `${theirs} ${ours}` : ours }
  } catch {
    return { connectionString: url, options: ours }
  }
}

/** What every connection that runs the scheduler's statements uses: the pool's and a worker thread's own. */
export function connectionConfig(url: string): pg.ClientConfig {
  return { ...withPlannerSettings(url), types: pgTypes }
}

export async function openPostgres(url: string, options: { poolSize?: number } = {}): Promise<Store> {
  const pool = new pg.Pool({ ...connectionConfig(url), max: options.poolSize ?? 10 })
  // An idle client that errors (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    // pg-pool listens for errors only on idle clients: one dropped while a query runs would otherwise raise an
    // unhandled 'error' and crash the process. The query itself still fails, and the pool discards the client.
    client.on('error', () => {})
    prepareMarkedStatements(client)
  })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  const listeners: pg.Client[] = []
  const drop = (c: pg.Client) => {
    const i = listeners.indexOf(c)
    if (i >= 0) listeners.splice(i, 1)
  }
  return {
    db,
    kind: 'postgres',
    url,
    async listen(channel, onMessage) {
      // A dedicated connection; if the server drops it (restart, pg_terminate_backend) it is re-established, and
      // a synthetic message tells the caller to look around, since notifications sent meanwhile were lost.
      let closed = false
      let client: pg.Client | null = null
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: url, types: pgTypes })
        c.on('notification', (msg) => {
          if (msg.channel === channel) onMessage(msg.payload ?? '')
        })
        c.on('error', () => {})
        c.on('end', () => {
          if (closed) return
          drop(c)
          setTimeout(() => void reconnect(), 500).unref()
        })
        await c.connect()
        await c.query(`listen ${pg.escapeIdentifier(channel)}`)
        client = c
        listeners.push(c)
      }
      const reconnect = async (): Promise<void> => {
        while (!closed) {
          try {
            await connect()
            onMessage('reconnected')
            return
          } catch {
            await new Promise((r) => setTimeout(r, 1000).unref())
          }
        }
      }
      await connect()
      return async () => {
        closed = true
        if (client) {
          drop(client)
          await client.end().catch(() => {})
        }
      }
    },
    async close() {
      await Promise.all(listeners.splice(0).map((c) => c.end().catch(() => {})))
      await db.destroy()
    },
  }
}

/** PGlite, in memory when `dataDir` is undefined. One process at a time may open a data dir. */
export async function openPglite(dataDir?: string): Promise<Store> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGliteDialect } = await import('kysely-pglite-dialect')
  const release = dataDir ? acquireHomeLock(dataDir) : () => {}
  let client
  try {
    client = await PGlite.create(dataDir ? { dataDir } : {})
  } catch (err) {
    release()
    throw err
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) })
  return {
    db,
    kind: 'pglite',
    async listen(channel, onMessage) {
      const unsub = await client.listen(channel, onMessage)
      return async () => unsub()
    },
    async close() {
      await db.destroy() // closes the PGlite instance; without it the process never exits
      release()
    },
  }
}

export async function openStore(config: Pick<ForgeConfig, 'databaseUrl' | 'home'>): Promise<Store> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl)
  mkdirSync(config.home, { recursive: true })
  return openPglite(join(config.home, 'pgdata'))
}
