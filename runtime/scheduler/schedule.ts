import { Cron } from 'croner'

/**
 * Cron maths for data intervals, Airflow-style: a run covers [start, end) between two consecutive fire times, its
 * logical date is the start, and it is created once the interval has ended. croner does the next/previous fire-time
 * maths in the DAG's timezone, including DST gaps and repeats (node-cron only fires callbacks in-process; the
 * scheduler needs to compute intervals from stored dates instead, so croner does that part).
 */

export interface DataInterval {
  start: Date
  end: Date
}

const PRESETS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
}

export function cronFor(schedule: string, timezone: string): Cron {
  return new Cron(PRESETS[schedule] ?? schedule, { timezone, paused: true })
}

/** The interval that starts at the first fire time at or after `from`. */
export function intervalStartingAt(cron: Cron, from: Date): DataInterval | null {
  const start = cron.nextRun(new Date(from.getTime() - 1))
  if (!start) return null
  const end = cron.nextRun(start)
  return end ? { start, end } : null
}

/** The latest interval that has ended by `now`. */
export function latestCompleteInterval(cron: Cron, now: Date): DataInterval | null {
  const [end, start] = cron.previousRuns(2, new Date(now.getTime() + 1))
  return start && end ? { start, end } : null
}

/**
 * The next interval to create after one that ended at `lastEnd` (or, for a new DAG, after `startDate`). Without
 * catchup, intervals that ended while nobody was scheduling are skipped to the latest complete one.
 */
export function nextInterval(cron: Cron, opts: { lastEnd: Date | null; startDate: Date | null; catchup: boolean; now: Date }): DataInterval | null {
  const from = opts.lastEnd ?? opts.startDate
  if (!from) return latestCompleteInterval(cron, opts.now) ?? intervalStartingAt(cron, opts.now)
  const next = intervalStartingAt(cron, from)
  if (!next || opts.catchup || next.end > opts.now) return next
  const latest = latestCompleteInterval(cron, opts.now)
  return latest && latest.start >= next.start ? latest : next
}
