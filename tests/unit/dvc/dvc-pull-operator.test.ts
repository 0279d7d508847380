import { describe, expect, it } from 'vitest'
import { pullInputFor } from '../../../operators/dvc/dvc-pull.operator.ts'

describe('dvcPull inputs', () => {
  const events = [
    {
      uri: 'dataset://carla',
      version: 'v4',
      extra: { tag: 'carla@v4', md5: 'b'.repeat(32) + '.dir', remote: '/srv/dvc' },
      sourceRunId: 'scheduled__x',
      timestamp: '2026-12-02T02:00:00Z',
    },
  ]
  const logs: string[] = []
  const ctx = { log: (m: string) => void logs.push(m), triggeringEvents: events }

  it('without a tag, pulls the version and remote of the event that triggered the run', () => {
    expect(pullInputFor({ repo: 'registry', dataset: 'carla', dest: 'd' }, ctx)).toEqual({
      repo: 'registry',
      dest: 'd',
      tag: 'carla@v4',
      remote: { url: '/srv/dvc' },
    })
    expect(logs.at(-1)).toBe('pulling carla@v4, the version whose event triggered this run (produced by scheduled__x)')
  })

  it('an explicit tag and remote win', () => {
    expect(pullInputFor({ repo: 'r', tag: 'carla@v2', dest: 'd' }, ctx)).toEqual({ repo: 'r', tag: 'carla@v2', dest: 'd' })
    expect(pullInputFor({ repo: 'r', dataset: 'carla', dest: 'd', remote: { url: '/other' } }, ctx).remote).toEqual({ url: '/other' })
  })

  it('no tag and no event for the dataset is an error', () => {
    expect(() => pullInputFor({ repo: 'r', dataset: 'kitti', dest: 'd' }, ctx)).toThrow(/no dataset event for dataset:\/\/kitti/)
  })
})
