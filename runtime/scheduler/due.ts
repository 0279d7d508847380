/** Interval bookkeeping for the loop: `due(what, everyMs, now)` is true at most once per `everyMs` for each `what`. */
export function dueTimers(): (what: string, everyMs: number, now: number) => boolean {
  const last = new Map<string, number>()
  return (what, everyMs, now) => {
    if (now - (last.get(what) ?? -Infinity) < everyMs) return false
    last.set(what, now)
    return true
  }
}
