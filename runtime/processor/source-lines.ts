/**
 * Finds lines in a DAG file's text for errors whose stack cannot say where (options are checked after the file
 * has been imported, when the only frames left are ours). Text search is a heuristic, so each function answers
 * only when the answer is unambiguous.
 */

/** The options serialization checks, as they appear in messages and in the file (`schedule: '…'`). */
const OPTION_NAMES = [
  'schedule',
  'timezone',
  'startDate',
  'maxActiveRuns',
  'maxActiveTasks',
  'retries',
  'retryDelay',
  'retryBackoff',
  'retryMaxDelay',
  'timeout',
  'triggerRule',
  'pool',
  'poolSlots',
  'priority',
  'isolation',
  'executorConfig',
]

/** The option an error message is about: `option "retries" …`, `schedule "x" is not…`, `task "t" retryDelay: …`. */
export function optionNamedIn(message: string): string | null {
  const quoted = /option "(\w+)/.exec(message)
  if (quoted) return quoted[1]!
  // Drop quoted values first so a task or dag called "schedule" is not taken for the option.
  const bare = message.replace(/"[^"]*"/g, '""')
  let best: { name: string; at: number } | null = null
  for (const name of OPTION_NAMES) {
    const at = bare.search(new RegExp(`\\b${name}\\b`))
    if (at >= 0 && (!best || at < best.at)) best = { name, at }
  }
  return best?.name ?? null
}

/**
 * The line that sets `option`: `near` itself if it does (a task's own options), else the only line that does
 * (the DAG's options or `defaults`); null when there is none or several.
 */
export function lineOfOption(source: string, option: string, near: number | null): number | null {
  const lines = source.split('\n')
  const sets = new RegExp(`\\b${option}\\s*:`)
  if (near !== null && sets.test(lines[near - 1] ?? '')) return near
  const hits = lines.flatMap((text, i) => (sets.test(text) ? [i + 1] : []))
  return hits.length === 1 ? hits[0]! : null
}

/** The first line calling `fn(`, e.g. where `export default defineDag(` starts. */
export function lineOfCall(source: string, fn: string): number | null {
  const i = source.split('\n').findIndex((text) => new RegExp(`\\b${fn}\\s*\\(`).test(text))
  return i >= 0 ? i + 1 : null
}

/** The first line matching `pattern`, e.g. the `export default` of a file whose export is not a DAG. */
export function lineMatching(source: string, pattern: RegExp): number | null {
  const i = source.split('\n').findIndex((text) => pattern.test(text))
  return i >= 0 ? i + 1 : null
}
