/** A run's decision went wrong: the message people see in `forge runs list`, without a stack. */
export function decideFailureReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return `could not be decided: ${message}`.slice(0, 2000)
}

/**
 * Whether an error in deciding a run is that run's own (its DAG version, its data, a statement of its own), rather
 * than the database's: a lost connection, a deadlock or a server shutting down must not fail runs, only the pass.
 */
export function isRunsOwnFault(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return true
  // 08P01 is a statement the server refused (a bind with too many parameters), not a lost connection.
  if (/^[0-9A-Z]{5}$/.test(code)) return code === '08P01' || !/^(08|40|53|57|58)/.test(code)
  return !/^E[A-Z]+$/.test(code)
}
