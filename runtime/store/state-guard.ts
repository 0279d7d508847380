import { sql, type RawBuilder } from 'kysely'
import type { TaskState } from '../model/states.ts'
import { allowedFrom, allowedFromStates } from '../model/transitions.ts'

/**
 * The `where` guard of an update that moves task instances to `to`: their state is one the transition table
 * allows `to` from (none included as `is null`), so a lost race changes nothing. `column` is the state column,
 * qualified when the statement joins (`x.state`).
 */
export function stateGuard(to: TaskState | null, column = 'state'): RawBuilder<boolean> {
  const ref = sql.ref(column)
  const none = allowedFrom(to).includes(null) ? sql` or ${ref} is null` : sql``
  return sql<boolean>`(${ref} = any(${allowedFromStates(to)}::text[])${none})`
}
