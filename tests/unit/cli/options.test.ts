import { describe, expect, it } from 'vitest'
import { confObject, isoDate, poolSlots, wholeNumber } from '../../../runtime/cli/options.ts'
import { ConfigError } from '../../../runtime/errors.ts'

describe('CLI value parsers', () => {
  const from = isoDate('--from')

  it('reads ISO dates and date-times, UTC unless an offset is given', () => {
    expect(from('2026-01-31').toISOString()).toBe('2026-01-31T00:00:00.000Z')
    expect(from('2026-01-31T02:30').toISOString()).toBe('2026-01-31T02:30:00.000Z')
    expect(from('2026-01-31T02:30:00+02:00').toISOString()).toBe('2026-01-31T00:30:00.000Z')
  })

  it.each(['yesterday', '2026', '2026-02-30', '2026-01-31T24:00', '31.01.2026', ''])('refuses %j, naming the option', (raw) => {
    expect(() => from(raw)).toThrow(ConfigError)
    expect(() => from(raw)).toThrow(`--from ${JSON.stringify(raw)} is not an ISO date`)
  })

  it('takes whole numbers at or above the minimum only', () => {
    expect(wholeNumber('--try', 1)('3')).toBe(3)
    expect(wholeNumber('--map-index', -1)('-1')).toBe(-1)
    for (const raw of ['abc', '0', '1.5', '1e3', '', '0x10'])
      expect(() => wholeNumber('--try', 1)(raw)).toThrow(`--try ${JSON.stringify(raw)} must be a whole number >= 1`)
  })

  it('wants --conf to be a JSON object and pool slots to be a whole number', () => {
    expect(confObject('{"a": 1}')).toEqual({ a: 1 })
    expect(() => confObject('[1]')).toThrow('must be a JSON object')
    expect(() => confObject('null')).toThrow('must be a JSON object')
    expect(() => confObject('{')).toThrow('is not valid JSON')
    expect(poolSlots('0')).toBe(0)
    expect(() => poolSlots('-1')).toThrow('pool SLOTS "-1"')
  })
})
