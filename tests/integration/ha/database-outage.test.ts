import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { Scheduler, type SchedulerEvent } from '../../../runtime/scheduler/scheduler.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'
import * as fixtures from '../../fixtures/dags-runtime/outage.dag.ts'

describe.skipIf(!ADMIN_URL)('a scheduler whose database connections are killed mid-run', () => {
  let store: Store
  let admin: Store
  let drop: () => Promise<void>
  beforeAll(async () => {
    const db = await createTestDatabase()
    drop = db.drop
    store = await openPostgres(db.url)
    admin = await openPostgres(ADMIN_URL!)
    await migrate(store.db)
  })
  afterAll(async () => {
    await store?.close()
    await admin?.close()
    await drop?.()
  })

  it('re-establishes LISTEN and its pool, and finishes the run with every task exactly once', async () => {
    await syncDags(store.db, [serializeDag(fixtures.slowChain, 'outage.dag.ts')], [])
    const run = await triggerRun(store.db, 'slow_chain', {})
    const events: SchedulerEvent[] = []
    const scheduler = new Scheduler({
      config: testConfig(),
      store,
      executor: new LocalExecutor({ parallelism: 4, threadWorkers: 1, store, config: testConfig() }),
      onlyRunPk: run.id,
      onEvent: (e) => events.push(e),
    })
    const done = scheduler.run()
    // Once the chain is under way, kill every server connection of the test database (pool and LISTEN alike).
    while (!events.some((e) => e.type === 'attempt:finished')) await new Promise((r) => setTimeout(r, 20))
    const dbName = (await sql<{ d: string }>`select current_database() as d`.execute(store.db)).rows[0]!.d
    // pg_terminate_backend only signals; the backends linger in pg_stat_activity until they exit, so remember
    // their pids and count only a LISTEN connection that is not one of them.
    const killed = await sql<{
      pid: number
    }>`with victims as materialized (select pid from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()) select pid from victims where pg_terminate_backend(pid, 5000)`.execute(
      admin.db,
    )
    const killedPids = killed.rows.map((r) => r.pid)
    expect(killedPids.length).toBeGreaterThan(0)
    // The LISTEN connection comes back by itself (its query text stays 'listen "forge"' while it idles).
    const listening = async () =>
      (
        await sql<{
          n: number
        }>`select count(*)::int as n from pg_stat_activity where datname = ${dbName} and query ilike 'listen%' and not (pid = any(${killedPids}::int[]))`.execute(
          admin.db,
        )
      ).rows[0]!.n
    const deadline = Date.now() + 10_000
    while ((await listening()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(await listening()).toBe(1)
    await done
    const final = await store.db.selectFrom('dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()
    expect(final.state).toBe('success')
    const tis = await store.db.selectFrom('task_instance').select(['task_id', 'state', 'try_number']).where('dag_run_id', '=', run.id).execute()
    expect(tis.every((t) => t.state === 'success')).toBe(true)
    const attempts = await store.db.selectFrom('task_attempt').select(['task_instance_id', 'state']).where('state', '=', 'success').execute()
    expect(attempts).toHaveLength(tis.length)
  }, 60_000)
})
