import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

describe.skipIf(!ADMIN_URL)('Postgres pool connections', () => {
  let store: Store
  let drop: () => Promise<void>
  let dbUrl: string
  beforeAll(async () => {
    const db = await createTestDatabase()
    drop = db.drop
    dbUrl = db.url
    store = await openPostgres(db.url, { poolSize: 3 })
  })
  afterAll(async () => {
    await store?.close()
    await drop?.()
  })

  it('plan with random_page_cost 1.1 on every connection, from its first query on', async () => {
    // Three at once, so three connections are opened and each answers its very first query.
    const costs = await Promise.all(
      [1, 2, 3].map(() =>
        store.db.transaction().execute(async (trx) => {
          const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid
          const cost = (await sql<{ random_page_cost: string }>`show random_page_cost`.execute(trx)).rows[0]!.random_page_cost
          await sql`select pg_sleep(0.05)`.execute(trx)
          return { pid, cost }
        }),
      ),
    )
    expect(new Set(costs.map((c) => c.pid)).size).toBe(3)
    expect(costs.map((c) => c.cost)).toEqual(['1.1', '1.1', '1.1'])
  })

  it('keeps startup options given in the URL beside its own', async () => {
    const url = new URL(dbUrl)
    url.searchParams.set('options', '-c statement_timeout=4321')
    const other = await openPostgres(url.toString(), { poolSize: 1 })
    try {
      const timeout = (await sql<{ statement_timeout: string }>`show statement_timeout`.execute(other.db)).rows[0]!.statement_timeout
      const cost = (await sql<{ random_page_cost: string }>`show random_page_cost`.execute(other.db)).rows[0]!.random_page_cost
      expect([timeout, cost]).toEqual(['4321ms', '1.1'])
    } finally {
      await other.close()
    }
  })

  it('survives a connection dropped while a query holds it: the query fails, the process does not', async () => {
    const victim = store.db.transaction().execute(async (trx) => {
      await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx)
    })
    await expect(victim).rejects.toThrow()
    // The pool discarded the broken client and opens a fresh one.
    const after = await sql<{ one: number }>`select 1 as one`.execute(store.db)
    expect(after.rows[0]!.one).toBe(1)
  })
})
