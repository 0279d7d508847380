import { describe, expect, it } from 'vitest'
import { openPostgres } from '../../../runtime/store/connect.ts'
import { MIGRATIONS, migrate } from '../../../runtime/store/migrate.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

describe.skipIf(!ADMIN_URL)('migrations on a fresh Postgres database', () => {
  it('apply exactly once when three processes migrate at the same moment', async () => {
    const { url, drop } = await createTestDatabase()
    const stores = await Promise.all([openPostgres(url), openPostgres(url), openPostgres(url)])
    try {
      const results = await Promise.all(stores.map((s) => migrate(s.db)))
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, MIGRATIONS.length])
      const tables = await stores[0]!.db.introspection.getTables()
      expect(tables.map((t) => t.name).sort()).toEqual([
        'api_token',
        'dag',
        'dag_run',
        'dag_run_dataset_event',
        'dag_version',
        'dataset',
        'dataset_event',
        'forge_migration',
        'import_error',
        'pool',
        'task_attempt',
        'task_instance',
        'task_log_chunk',
        'xcom',
      ])
    } finally {
      await Promise.all(stores.map((s) => s.close()))
      await drop()
    }
  })
})
