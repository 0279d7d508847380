import { describe, expect, it } from 'vitest'
import { attemptIdOf, attemptLabels, jobName, labelValue } from '../../../runtime/executors/kubernetes/job-identity.ts'

const attempt = {
  attemptId: 42,
  dagId: 'carla_nightly_dataset',
  runId: 'manual__2026-12-02T03:30:00.000+00:00_ab12',
  taskId: 'simulate',
  mapIndex: 3,
  tryNumber: 1,
}
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

describe('jobName', () => {
  it('is a DNS-1123 label of at most 63 characters, the same for the same attempt', () => {
    const name = jobName(attempt)
    expect(name).toMatch(DNS_LABEL)
    expect(name.length).toBeLessThanOrEqual(63)
    expect(jobName({ ...attempt })).toBe(name)
    expect(name.startsWith('carla-nightly-dataset-simulate-3-')).toBe(true)
  })

  it('differs for every part of the attempt key', () => {
    const names = new Set([
      jobName(attempt),
      jobName({ ...attempt, tryNumber: 2 }),
      jobName({ ...attempt, mapIndex: 4 }),
      jobName({ ...attempt, runId: attempt.runId + 'x' }),
      jobName({ ...attempt, taskId: 'simulate2' }),
      jobName({ ...attempt, dagId: 'other' }),
    ])
    expect(names.size).toBe(6)
  })

  it('stays within 63 characters for very long ids and ids with no usable character', () => {
    const long = jobName({ ...attempt, dagId: 'd'.repeat(200), taskId: 't'.repeat(200), tryNumber: 12345 })
    expect(long.length).toBeLessThanOrEqual(63)
    expect(long).toMatch(DNS_LABEL)
    const odd = jobName({ ...attempt, dagId: '___', taskId: '...', mapIndex: -1 })
    expect(odd).toMatch(DNS_LABEL)
  })
})

describe('labels', () => {
  it('are valid label values and lead back to the attempt', () => {
    const labels = attemptLabels(attempt)
    for (const v of Object.values(labels)) expect(v).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/)
    expect(labels['adas-forge.io/run']).toBe('manual__2026-12-02T03_30_00.000_00_00_ab12')
    expect(attemptIdOf(labels)).toBe(42)
    expect(attemptIdOf({ app: 'other' })).toBeNull()
    expect(labelValue('-x-'.repeat(40)).length).toBeLessThanOrEqual(63)
  })
})
