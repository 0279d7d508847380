import { sql, type RawBuilder } from 'kysely'
import type { TaskState } from '../model/states.ts'
import { allowedFrom } from '../model/transitions.ts'

/**
 * The `where` guard of an update that moves task instances to `to`: their state is one the transition table
 * allows `to` from (none included as `is null`), so a lost race changes nothing. `column` is the state column,
 * qualified when the statement joins (`x.state`); `among` narrows the table's states to some of them.
 */
export function stateGuard(to: TaskState | null, column = 'state', among?: readonly (TaskState | null)[]): RawBuilder<boolean> {
  const ref = sql.ref(column)
  const from = allowedFrom(to).filter((s) => !among || among.includes(s))
  const none = from.includes(null) ? sql` or ${ref} is null` : sql``
  return sql<boolean>`(${ref} = any(${from.filter((s) => s !== null)}::text[])${none})`
}
