import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { processDagFolder, type ProcessDagFolderResult } from '../../../runtime/processor/process-dag-folder.ts'

const SCHEDULES = fileURLToPath(new URL('../../fixtures/dags-schedules/', import.meta.url))

/**
 * Schedule and timezone rules, checked where the DAG file is processed: each bad file is an import error on the
 * line that sets the option, and the good files beside it still load. Every fixture sets schedule on line 6 and
 * timezone on line 7.
 */
describe('schedule and timezone checks at import', () => {
  let result: ProcessDagFolderResult
  beforeAll(async () => {
    result = await processDagFolder(SCHEDULES, { timeoutMs: 20_000 })
  })

  const errorOf = (file: string) => result.errors.find((e) => e.file === file)

  it.each([
    ['tz_asia_kolkata', 'Asia/Kolkata', '30 9 * * *'],
    ['tz_europe_kyiv', 'Europe/Kyiv', '0 2 * * *'],
    ['tz_etc_utc', 'Etc/UTC', '0 * * * *'],
  ])('accepts %s: a zone the time-zone database knows by an alias name', (dagId, timezone, schedule) => {
    expect(errorOf(`${dagId}.dag.ts`)).toBeUndefined()
    expect(result.dags.find((d) => d.dag_id === dagId)).toMatchObject({ timezone, schedule })
  })

  it.each([
    ['alias_daily', '@daily'],
    ['alias_hourly', '@hourly'],
  ])('keeps aliases working: %s', (dagId, schedule) => {
    expect(result.dags.find((d) => d.dag_id === dagId)).toMatchObject({ schedule })
  })

  it('refuses a zone nobody has heard of, naming the field and value', () => {
    expect(errorOf('tz_mars.dag.ts')).toEqual({
      file: 'tz_mars.dag.ts',
      line: 7,
      message: 'dag "tz_mars": timezone "Mars/Olympus" is not an IANA zone known to this runtime\'s time-zone database (e.g. Europe/Berlin, UTC)',
    })
  })

  it('refuses a 6-field cron and says seconds are not supported, and why', () => {
    const error = errorOf('cron_seconds.dag.ts')
    expect(error).toMatchObject({ file: 'cron_seconds.dag.ts', line: 6 })
    expect(error!.message).toMatch(
      /^dag "cron_seconds": schedule "\*\/5 \* \* \* \* \*" has 6 fields, not the 5 of a cron expression; seconds are not supported/,
    )
    expect(error!.message).toMatch(/one data interval/)
  })

  it('refuses a 7-field cron (a year field)', () => {
    expect(errorOf('cron_year_field.dag.ts')).toMatchObject({
      line: 6,
      message: expect.stringMatching(/schedule "0 0 0 1 1 \* 2030" has 7 fields, not the 5 of a cron expression; use minute hour/),
    })
  })

  it('refuses a cron that can never fire', () => {
    expect(errorOf('cron_never_fires.dag.ts')).toEqual({
      file: 'cron_never_fires.dag.ts',
      line: 6,
      message: expect.stringMatching(/^dag "cron_never_fires": schedule "0 0 31 2 \*" never fires/),
    })
  })

  it('loads every good file beside the bad ones, and reports nothing else', () => {
    expect(result.dags.map((d) => d.dag_id)).toEqual(['alias_daily', 'alias_hourly', 'tz_asia_kolkata', 'tz_etc_utc', 'tz_europe_kyiv'])
    expect(result.errors.map((e) => e.file)).toEqual(['cron_never_fires.dag.ts', 'cron_seconds.dag.ts', 'cron_year_field.dag.ts', 'tz_mars.dag.ts'])
  })
})
