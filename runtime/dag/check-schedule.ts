import { Cron } from 'croner'
import { DagDefinitionError } from '../errors.ts'

/**
 * The schedule rules a DAG file is held to when it is processed, so a schedule the scheduler could never use is
 * an import error with the file's line rather than a DAG that silently never runs.
 */

/** Zones already checked in this process: building a DateTimeFormat costs about a millisecond. */
const knownZones = new Set<string>()

/**
 * Any zone the runtime's time-zone database resolves, aliases included (Asia/Kolkata, Europe/Kyiv, Etc/UTC):
 * `Intl.supportedValuesOf('timeZone')` lists canonical names only, so it cannot be the test.
 */
export function checkTimezone(dagId: string, timezone: unknown): void {
  if (typeof timezone === 'string' && knownZones.has(timezone)) return
  try {
    if (typeof timezone !== 'string' || timezone === '') throw new RangeError('not a zone name')
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
    knownZones.add(timezone)
  } catch {
    throw new DagDefinitionError(
      `dag "${dagId}": timezone ${JSON.stringify(timezone)} is not an IANA zone known to this runtime's time-zone database (e.g. Europe/Berlin, UTC)`,
    )
  }
}

/**
 * A 5-field cron (minute hour day-of-month month day-of-week) or an alias croner knows (@daily, @hourly…), read
 * in `timezone` (already checked), that fires at least once from now on.
 */
export function checkCron(dagId: string, schedule: unknown, timezone: string): void {
  const where = `dag "${dagId}": schedule ${JSON.stringify(schedule)}`
  if (typeof schedule !== 'string') throw new DagDefinitionError(`${where} is not a cron expression: expected a string`)
  const fields = schedule.trim().split(/\s+/).length
  if (!schedule.trim().startsWith('@') && fields !== 5) {
    // croner takes 6 fields (seconds first) and 7 (a year last); a run is one data interval of a batch DAG, so a
    // sub-minute schedule is not one the scheduler keeps, and a year field only ends the schedule.
    const why =
      fields === 6
        ? 'seconds are not supported: each fire time starts a run of the whole DAG for one data interval, and a batch DAG does not run per second'
        : 'use minute hour day-of-month month day-of-week, or an alias such as @daily'
    throw new DagDefinitionError(`${where} has ${fields} field${fields === 1 ? '' : 's'}, not the 5 of a cron expression; ${why}`)
  }
  let cron: Cron
  try {
    cron = new Cron(schedule, { timezone, paused: true })
  } catch (err) {
    throw new DagDefinitionError(`${where} is not a cron expression: ${(err as Error).message}`)
  }
  if (cron.nextRun() === null) {
    throw new DagDefinitionError(`${where} never fires: no date matches it (a day that month does not have?)`)
  }
}
