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
})

/*
 * A removed upstream instance (a mapped instance its shrunk list no longer reaches, a task a newer DAG version
 * dropped) is not part of the run: no rule waits for it or counts it, as if it had never been made. Airflow's own
 * trigger_rule_dep.py does otherwise: all_success, all_failed and none_failed wait for ever on it
 * (apache/airflow#33164), and one_success counts it as done. Each row: the rule, the upstream states, the verdict.
 */
describe('trigger rules with removed upstream instances', () => {
  const R = S.Removed
  it.each<[TriggerRule, Array<TaskState | null>, string]>([
    ['all_success', [S.Success, R], 'run'],
    ['all_success', [S.Success, R, R], 'run'],
    ['all_success', [S.Running, R], 'wait'],
    ['all_success', [S.Failed, R], S.UpstreamFailed],
    ['all_failed', [S.Failed, R], 'run'],
    ['all_failed', [S.UpstreamFailed, R], 'run'],
    ['all_failed', [S.Success, R], S.Skipped],
    ['all_done', [S.Failed, R], 'run'],
    ['all_done', [null, R], 'wait'],
    ['one_success', [S.Failed, R], S.UpstreamFailed],
    ['one_success', [S.Skipped, R], S.Skipped],
    ['one_success', [S.Running, R], 'wait'],
    ['one_failed', [S.Success, R], S.Skipped],
    ['one_failed', [S.Failed, R], 'run'],
    ['none_failed', [S.Success, R], 'run'],
    ['none_failed', [S.Skipped, R], 'run'],
    ['none_failed', [S.Failed, R], S.UpstreamFailed],
    ['none_skipped', [S.Success, R], 'run'],
    ['none_skipped', [S.Skipped, R], S.Skipped],
    ['always', [R], 'run'],
  ])('%s with %j -> %s', (rule, states, expected) => {
    expect(verdict(rule, states)).toBe(expected)
  })

  it.each(TRIGGER_RULES)('%s with only removed upstream instances runs the task, as one with no upstream does', (rule) => {
    expect(verdict(rule, [S.Removed, S.Removed])).toBe('run')
  })

  it('counts removed instances nowhere, so they never hold a rule back', () => {
    expect(countUpstream([S.Success, S.Removed, S.Failed, S.Removed])).toEqual({ total: 2, success: 1, skipped: 0, failed: 1, done: 2 })
  })
})
