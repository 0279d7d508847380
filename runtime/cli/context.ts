import { loadConfig, type ForgeConfig } from '../config.ts'
import { openStore, type Store } from '../store/connect.ts'
import { migrate } from '../store/migrate.ts'
import { ForgeError } from '../errors.ts'

export interface CliContext {
  config: ForgeConfig
  store: Store
}

/** Opens the configured store and applies migrations (safe when several processes start at once). */
export async function openContext(): Promise<CliContext> {
  const config = loadConfig()
  const store = await openStore(config)
  try {
    const m = await migrate(store.db)
    if (m.aheadBy > 0) {
      throw new ForgeError('db_ahead', `the database has ${m.aheadBy} migration(s) this adas-forge does not know; upgrade adas-forge before using it`)
    }
  } catch (err) {
    await store.close()
    throw err
  }
  return { config, store }
}

export async function withContext<T>(fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openContext()
  try {
    return await fn(ctx)
  } finally {
    await ctx.store.close()
  }
}
