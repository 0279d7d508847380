import { CompiledQuery } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DirectConnection } from '../../../runtime/store/direct-connection.ts'
import { PREPARE } from '../../../runtime/store/prepared.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

const query = <R>(text: string) => CompiledQuery.raw(text) as CompiledQuery<R>
const pidOf = async (c: DirectConnection) => (await c.executeQuery<{ pid: number }>(query('select pg_backend_pid() as pid'))).rows[0]!.pid

describe.skipIf(!ADMIN_URL)('a worker thread\'s direct connection', () => {
  let drop: () => Promise<void>
  let url: string
  let admin: pg.Client
  beforeAll(async () => {
    ;({ url, drop } = await createTestDatabase())
    admin = new pg.Client({ connectionString: url })
    await admin.connect()
  })
  afterAll(async () => {
    await admin?.end()
    await drop?.()
  })

  it('uses the scheduler connections\' settings: planner cost, int8 as numbers, marked statements prepared', async () => {
    const c = new DirectConnection(url)
    try {
      const marked = `${PREPARE} select count(*) as n, current_setting('random_page_cost') as cost from generate_series(1, 3)`
      expect((await c.executeQuery(query(marked))).rows).toEqual([{ n: 3, cost: '1.1' }])
      const prepared = await c.executeQuery<{ n: number }>(query(`select count(*)::int as n from pg_prepared_statements where statement like '%forge:prepared%'`))
      expect(prepared.rows[0]!.n).toBe(1)
    } finally {
      await c.close()
    }
  })

  it('keeps its connection after an error from the server, and drops one whose query goes unanswered', async () => {
    const c = new DirectConnection(url, 300)
    try {
      const first = await pidOf(c)
      await expect(c.executeQuery(query('select 1 / 0'))).rejects.toThrow(/division by zero/)
      expect(await pidOf(c)).toBe(first)
      // Unanswered within 300 ms: rejected, and the next query does not queue behind it on the same connection.
      await expect(c.executeQuery(query('select pg_sleep(3)'))).rejects.toThrow(/timeout/)
      const next = await pidOf(c)
      expect(next).not.toBe(first)
    } finally {
      await c.close()
    }
  })

  it('opens a new connection after the server dropped the old one', async () => {
    const c = new DirectConnection(url)
    try {
      const first = await pidOf(c)
      await admin.query('select pg_terminate_backend($1, 5000)', [first])
      // The statement in flight when a connection dies fails (the edge then goes back to the scheduler's path);
      // the one after it must work on a fresh connection.
      await pidOf(c).catch(() => null)
      const next = await pidOf(c)
      expect(next).not.toBe(first)
    } finally {
      await c.close()
    }
  })
})
