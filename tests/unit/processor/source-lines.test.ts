import { describe, expect, it } from 'vitest'
import { mapLimit } from '../../../runtime/processor/map-limit.ts'
import { lineOfCall, lineOfOption, optionNamedIn } from '../../../runtime/processor/source-lines.ts'

const SOURCE = [
  "import { defineDag } from '../runtime/index.ts'", // 1
  'export default defineDag({', // 2
  "  id: 'x', schedule: '61 * * * *',", // 3
  '  defaults: { retries: -1 },', // 4
  '}, (dag) => {', // 5
  "  dag.task('a', () => 1, { retries: 2 })", // 6
  "  dag.task('b', () => 1)", // 7
  '})', // 8
].join('\n')

describe('source-lines', () => {
  it('finds the option a message is about, ignoring quoted names', () => {
    expect(optionNamedIn('dag "x" task "a" (f.ts:6): option "retries" Too small')).toBe('retries')
    expect(optionNamedIn('dag "timezone": schedule "61 * * * *" is not a cron expression')).toBe('schedule')
    expect(optionNamedIn('task "t" retryDelay: "5 min" is not a duration')).toBe('retryDelay')
    expect(optionNamedIn('dag "x" has a cycle')).toBeNull()
  })

  it('prefers the task line when it sets the option, else the only line that does', () => {
    expect(lineOfOption(SOURCE, 'retries', 6)).toBe(6)
    expect(lineOfOption(SOURCE, 'schedule', 7)).toBe(3)
    // Two lines set retries and the task's own line does not: no honest answer.
    expect(lineOfOption(SOURCE, 'retries', 7)).toBeNull()
    expect(lineOfCall(SOURCE, 'defineDag')).toBe(2)
  })
})

describe('mapLimit', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0
    let peak = 0
    const out = await mapLimit([30, 10, 20, 5, 1], 2, async (ms, i) => {
      peak = Math.max(peak, ++running)
      await new Promise((r) => setTimeout(r, ms))
      running--
      return i
    })
    expect(out).toEqual([0, 1, 2, 3, 4])
    expect(peak).toBe(2)
  })
})
