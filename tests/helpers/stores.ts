import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import pg from 'pg'
import { openPglite, openPostgres, type Store } from '../../runtime/store/connect.ts'
import { forgetDagVersions } from '../../runtime/store/dag.repo.ts'
import { migrate } from '../../runtime/store/migrate.ts'
import { assertNoTransitionViolations, installTransitionGuard } from './transition-guard.ts'

/**
 * Every store test runs on PGlite, and on real Postgres as well when FORGE_DATABASE_URL is set: by .ci/run, by
 * hand, or by the globalSetup (tests/helpers/postgres-probe.ts) when a local Postgres answers on 127.0.0.1:5432.
 * An empty FORGE_DATABASE_URL means PGlite only. Each Postgres test store is a database of its own, so test files
 * run in parallel without sharing rows.
 * Every test database refuses task_instance state changes that runtime/model/transitions.ts does not allow, and
 * its cleanup fails if one was attempted (transition-guard.ts).
 */
export type StoreKind = 'pglite' | 'postgres'

export const ADMIN_URL = process.env.FORGE_DATABASE_URL || null

export const STORE_KINDS: StoreKind[] = ADMIN_URL ? ['pglite', 'postgres'] : ['pglite']

export interface TestStore {
  store: Store
  /** Set for Postgres stores: a URL other processes (schedulers under test) can connect to. */
  url: string | null
  cleanup(): Promise<void>
}

/**
 * A fresh, unmigrated Postgres database with the transition guard installed (it attaches when migrated), on the
 * shared server or on the server `adminUrl` names (a test's private cluster).
 */
export async function createTestDatabase(adminUrl: string = ADMIN_URL!): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `forge_t_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  await withClient(url.toString(), (c) => installTransitionGuard((text) => c.query(text)))
  return {
    url: url.toString(),
    drop: async () => {
      try {
        await withClient(url.toString(), (c) => assertNoTransitionViolations((text) => c.query(text)))
      } finally {
        await withClient(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`))
      }
    },
  }
}

async function withClient<T>(connectionString: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString })
  await c.connect()
  try {
    return await f(c)
  } finally {
    await c.end()
  }
}

export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  // A fresh database reuses version ids another test's database had: the process-wide cache must not answer for it.
  forgetDagVersions()
  if (kind === 'pglite') {
    const store = await openPglite()
    const query = (text: string) => sql.raw(text).execute(store.db)
    await installTransitionGuard(query)
    await migrate(store.db)
    return {
      store,
      url: null,
      cleanup: async () => {
        try {
          await assertNoTransitionViolations(query)
        } finally {
          await store.close()
        }
      },
    }
  }
  const { url, drop } = await createTestDatabase()
  const store = await openPostgres(url)
  await migrate(store.db)
  return {
    store,
    url,
    cleanup: async () => {
      await store.close()
      await drop()
    },
  }
}
