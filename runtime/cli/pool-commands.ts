import { ConfigError } from '../errors.ts'
import type { CliContext } from './context.ts'
import { printJson, printTable } from './output.ts'

export async function poolsList(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const pools = await ctx.store.db.selectFrom('pool').selectAll().orderBy('name').execute()
  if (opts.json) printJson(pools)
  else printTable(['pool', 'slots', 'description'], pools.map((p) => [p.name, p.slots, p.description]))
  return 0
}

/** Creates or resizes a pool; running tasks keep their slots, new claims see the new size at once. */
export async function poolsSet(ctx: CliContext, name: string, slotsText: string, opts: { description?: string }): Promise<number> {
  const slots = Number(slotsText)
  if (!Number.isInteger(slots) || slots < 0) throw new ConfigError(`pool slots must be a whole number >= 0, got ${JSON.stringify(slotsText)}`)
  if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) throw new ConfigError(`pool name ${JSON.stringify(name)} is invalid: use letters, digits, _ . - (max 64)`)
  await ctx.store.db
    .insertInto('pool')
    .values({ name, slots, description: opts.description ?? '' })
    .onConflict((oc) => oc.column('name').doUpdateSet({ slots, ...(opts.description !== undefined ? { description: opts.description } : {}) }))
    .execute()
  console.log(`pool ${name}: ${slots} slot(s)`)
  return 0
}
