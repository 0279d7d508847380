import { describe, expect, it } from 'vitest'
import { decideFailureReason, isRunsOwnFault } from '../../../runtime/scheduler/fail-run.ts'

const pgError = (code: string) => Object.assign(new Error(`error ${code}`), { code })

describe('which errors fail the run being decided', () => {
  it("blames the run for a plain error and for a statement of its own (constraint, bad data, a bug's SQL)", () => {
    expect(isRunsOwnFault(new TypeError('dag.tasks.map is not a function'))).toBe(true)
    expect(isRunsOwnFault(pgError('23505'))).toBe(true) // unique_violation
    expect(isRunsOwnFault(pgError('22P02'))).toBe(true) // invalid_text_representation
    expect(isRunsOwnFault(pgError('54000'))).toBe(true) // program_limit_exceeded
    expect(isRunsOwnFault(pgError('08P01'))).toBe(true) // protocol_violation: "bind message has 6446 parameter formats…"
    expect(isRunsOwnFault(pgError('XX000'))).toBe(true) // internal_error: would recur on every pass
    expect(isRunsOwnFault(Object.assign(new Error('x'), { code: 'dag_definition' }))).toBe(true)
  })

  it('never blames the run for the database: lost connections, deadlocks, serialization failures, shutdowns', () => {
    for (const code of ['08006', '08003', '40001', '40P01', '53300', '57P01', '57P03', '58030', 'ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED']) {
      expect(isRunsOwnFault(pgError(code)), code).toBe(false)
    }
  })

  it('says why in one bounded line', () => {
    expect(decideFailureReason(new Error('boom'))).toBe('could not be decided: boom')
    expect(decideFailureReason('x'.repeat(5000))).toHaveLength(2000)
  })
})
