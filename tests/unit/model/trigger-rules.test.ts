import { describe, expect, it } from 'vitest'
import { TaskState, TRIGGER_RULES, type TriggerRule } from '../../../runtime/model/states.ts'
import { countUpstream, evaluateTriggerRule } from '../../../runtime/model/trigger-rules.ts'

const S = TaskState
const verdict = (rule: TriggerRule, states: Array<TaskState | null>) => evaluateTriggerRule(rule, countUpstream(states))

describe('trigger rules (Airflow semantics)', () => {
  it.each<[TriggerRule, Array<TaskState | null>, string]>([
    ['all_success', [S.Success, S.Success], 'run'],
    ['all_success', [S.Success, S.Running], 'wait'],
    ['all_success', [S.Failed, S.Running], S.UpstreamFailed],
    ['all_success', [S.UpstreamFailed, S.Success], S.UpstreamFailed],
    ['all_success', [S.Skipped, S.Success], S.Skipped],
    ['all_failed', [S.Failed, S.UpstreamFailed], 'run'],
    ['all_failed', [S.Failed, S.Success], S.Skipped],
    ['all_failed', [S.Failed, null], 'wait'],
    ['all_done', [S.Failed, S.Success, S.Skipped], 'run'],
    ['all_done', [S.Failed, S.UpForRetry], 'wait'],
    ['one_success', [S.Success, S.Running], 'run'],
    ['one_success', [S.Failed, S.Skipped], S.UpstreamFailed],
    ['one_success', [S.Skipped, S.Skipped], S.Skipped],
    ['one_success', [S.Failed, S.Running], 'wait'],
    ['one_failed', [S.Failed, S.Running], 'run'],
    ['one_failed', [S.Success, S.Success], S.Skipped],
    ['none_failed', [S.Success, S.Skipped], 'run'],
    ['none_failed', [S.Success, S.Failed], S.UpstreamFailed],
    ['none_skipped', [S.Success, S.Failed], 'run'],
    ['none_skipped', [S.Skipped, S.Running], S.Skipped],
    ['always', [S.Running, null], 'run'],
  ])('%s with %j -> %s', (rule, states, expected) => {
    expect(verdict(rule, states)).toBe(expected)
  })

  it.each(TRIGGER_RULES)('%s with no upstream instances runs the task, as in Airflow', (rule) => {
    expect(verdict(rule, [])).toBe('run')
  })

  it('ignores removed upstream instances', () => {
    expect(verdict('all_success', [S.Success, S.Removed])).toBe('run')
  })
})
