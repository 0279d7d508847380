import type { CliContext } from './context.ts'
import { printJson, printTable } from './output.ts'

export async function poolsList(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const pools = await ctx.store.db.selectFrom('pool').selectAll().orderBy('name').execute()
  if (opts.json) printJson(pools)
  else
    printTable(
      ['pool', 'slots', 'description'],
      pools.map((p) => [p.name, p.slots, p.description]),
    )
  return 0
}

/** Creates or resizes a pool (name and slots checked by cli/options.ts); running tasks keep their slots, new claims see the new size at once. */
export async function poolsSet(ctx: CliContext, name: string, slots: number, opts: { description?: string }): Promise<number> {
  await ctx.store.db
    .insertInto('pool')
    .values({ name, slots, description: opts.description ?? '' })
    .onConflict((oc) => oc.column('name').doUpdateSet({ slots, ...(opts.description !== undefined ? { description: opts.description } : {}) }))
    .execute()
  console.log(`pool ${name}: ${slots} slot(s)`)
  return 0
}
