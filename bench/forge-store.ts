import { processDagFolder } from '../runtime/processor/process-dag-folder.ts'
import { openPostgres, type Store } from '../runtime/store/connect.ts'
import { syncDags } from '../runtime/store/dag.repo.ts'
import { migrate } from '../runtime/store/migrate.ts'
import { freshDatabase } from './peers/common.ts'

/**
 * A fresh, migrated database named `name` with the DAGs of `dagsFolder` registered, for adas-forge's side of a
 * benchmark. Pools are not what is measured: the default pool gets room for any width.
 */
export async function openBenchStore(databaseUrl: string, name: string, dagsFolder: string): Promise<Store> {
  const store = await openPostgres(await freshDatabase(databaseUrl, name))
  await migrate(store.db)
  await store.db.updateTable('pool').set({ slots: 100_000 }).where('name', '=', 'default_pool').execute()
  const { dags, errors } = await processDagFolder(dagsFolder, { timeoutMs: 60_000 })
  if (errors.length) throw new Error(`benchmark DAGs in ${dagsFolder} failed to import: ${JSON.stringify(errors)}`)
  await syncDags(store.db, dags, [])
  return store
}
