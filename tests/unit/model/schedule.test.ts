import { describe, expect, it } from 'vitest'
import { cronFor, latestCompleteInterval, nextInterval } from '../../../runtime/scheduler/schedule.ts'

describe('cron data intervals', () => {
  it('reads the cron in the DAG timezone across the spring DST gap', () => {
    // 02:30 does not exist in Berlin on 2025-03-30; croner fires at 03:00 local (01:00Z) that day.
    const cron = cronFor('30 2 * * *', 'Europe/Berlin')
    const iv = nextInterval(cron, {
      lastEnd: new Date('2025-03-29T01:30:00Z'),
      startDate: null,
      catchup: true,
      now: new Date('2025-04-10T00:00:00Z'),
    })
    expect(iv).toEqual({ start: new Date('2025-03-29T01:30:00Z'), end: new Date('2025-03-30T01:00:00Z') })
    const after = nextInterval(cron, { lastEnd: iv!.end, startDate: null, catchup: true, now: new Date('2025-04-10T00:00:00Z') })
    expect(after!.end).toEqual(new Date('2025-03-31T00:30:00Z'))
  })

  it('without catchup jumps to the latest complete interval', () => {
    const cron = cronFor('@daily', 'UTC')
    const iv = nextInterval(cron, {
      lastEnd: new Date('2025-01-01T00:00:00Z'),
      startDate: null,
      catchup: false,
      now: new Date('2025-02-10T05:00:00Z'),
    })
    expect(iv).toEqual({ start: new Date('2025-02-09T00:00:00Z'), end: new Date('2025-02-10T00:00:00Z') })
  })

  it('starts a new DAG at its start date, or at the latest complete interval without one', () => {
    const cron = cronFor('0 * * * *', 'UTC')
    const now = new Date('2025-05-05T10:20:00Z')
    expect(nextInterval(cron, { lastEnd: null, startDate: new Date('2025-05-05T08:00:00Z'), catchup: true, now })!.start).toEqual(
      new Date('2025-05-05T08:00:00Z'),
    )
    expect(latestCompleteInterval(cron, now)).toEqual({ start: new Date('2025-05-05T09:00:00Z'), end: new Date('2025-05-05T10:00:00Z') })
  })
})
