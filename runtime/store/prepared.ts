import { createHash } from 'node:crypto'
import type pg from 'pg'

/** Put this comment in a hot, fixed-shape statement to have Postgres plan it once per connection. */
export const PREPARE = '/* forge:prepared */'

/**
 * The scheduler's hot statements are CTEs whose planning (~0.4 ms each, measured with EXPLAIN ANALYZE) costs as
 * much as their execution on a chain edge. Kysely sends every query unnamed, so this wraps a pool client's
 * `query` to send statements carrying the PREPARE marker as named prepared statements, which pg caches per
 * connection. Only marked statements are named: texts that vary (IN lists) would pile up prepared plans.
 */
export function prepareMarkedStatements(client: pg.ClientBase): void {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, cb?: unknown) => {
    const name = typeof text === 'string' ? preparedName(text) : null
    return name ? original({ name, text, values }, cb) : original(text, values, cb)
  }
}

// Marked texts are a handful of constants: remember each name instead of hashing the text on every execution.
const names = new Map<string, string>()

/** The prepared-statement name of a marked text, or null for an unmarked one. */
function preparedName(text: string): string | null {
  let name = names.get(text)
  if (name === undefined) {
    if (!text.includes(PREPARE)) return null
    name = `forge_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`
    if (names.size < 100) names.set(text, name)
  }
  return name
}
