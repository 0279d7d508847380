import { loadConfig, type ForgeConfig } from '../config.ts'
import { openStore, type Store } from '../store/connect.ts'
import { migrate } from '../store/migrate.ts'
import { ForgeError } from '../errors.ts'
import type { ServiceContext } from '../service/context.ts'

export interface CliContext {
  config: ForgeConfig
  store: Store
}

/** Opens the configured store and applies migrations (safe when several processes start at once). */
export async function openContext(): Promise<CliContext> {
  const config = loadConfig()
  const store = await openStore(config)
  try {
    const m = await migrate(store.db).catch((err: unknown) => {
      throw unreachable(err, config.databaseUrl)
    })
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

/** Errors that mean "no usable database at that URL", not a bug: network errors and Postgres's connection-time SQLSTATEs. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', '3D000', '28P01', '28000', '57P03'])

/** A one-line error naming FORGE_DATABASE_URL (its password hidden) instead of a driver stack trace. */
function unreachable(err: unknown, url: string | null): unknown {
  const code = (err as { code?: unknown })?.code
  if (!url || typeof code !== 'string' || !UNREACHABLE.has(code)) return err
  const shown = new URL(url)
  if (shown.password) shown.password = '***'
  const why = err instanceof Error && err.message ? err.message : code
  return new ForgeError('db_unreachable', `cannot use the database at FORGE_DATABASE_URL=${shown.toString()}: ${why}`, { cause: err })
}

/** The service layer's view of this context (runtime/service/). */
export function serviceOf(ctx: CliContext): ServiceContext {
  return { db: ctx.store.db, config: ctx.config }
}
