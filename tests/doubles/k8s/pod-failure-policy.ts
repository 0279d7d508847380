/**
 * A Job's podFailurePolicy as the Job controller applies it (pod_failure_policy.go; docs/kubernetes.md §10): the
 * rules of a failed pod are tried in order and the first match decides. `onExitCodes` looks at terminated
 * containers (an exit code 0 never matches), restricted to one container when named; `onPodConditions` at the
 * pod's conditions. An unknown action skips its rule. No match: the failure counts toward backoffLimit.
 */
import type { KObject } from './object-store.ts'

export type PolicyAction = 'FailJob' | 'Ignore' | 'Count'

interface Rule {
  action?: string
  onExitCodes?: { containerName?: string; operator?: string; values?: number[] }
  onPodConditions?: Array<{ type: string; status?: string }>
}

const ACTIONS = new Set(['FailJob', 'Ignore', 'Count', 'FailIndex'])

/** The 422 causes a Job's podFailurePolicy earns (the shapes a client can get wrong), as batch validation words them. */
export function podFailurePolicyCauses(spec: Record<string, any>): Array<{ reason: string; message: string; field: string }> {
  const policy = spec.podFailurePolicy as { rules?: Rule[] } | undefined
  if (!policy) return []
  const causes: Array<{ reason: string; message: string; field: string }> = []
  const restart = spec.template?.spec?.restartPolicy
  if (restart !== 'Never')
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: "${restart ?? ''}": only "Never" is supported when podFailurePolicy is specified`,
      field: 'spec.template.spec.restartPolicy',
    })
  ;(policy.rules ?? []).forEach((rule, i) => {
    if (!rule.action)
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
        field: `spec.podFailurePolicy.rules[${i}].action`,
      })
    else if (!ACTIONS.has(rule.action))
      causes.push({
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: "${rule.action}": supported values: "Count", "FailIndex", "FailJob", "Ignore"`,
        field: `spec.podFailurePolicy.rules[${i}].action`,
      })
    const op = rule.onExitCodes?.operator
    if (rule.onExitCodes && op !== 'In' && op !== 'NotIn')
      causes.push({
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: "${op ?? ''}": supported values: "In", "NotIn"`,
        field: `spec.podFailurePolicy.rules[${i}].onExitCodes.operator`,
      })
    if (op === 'In' && rule.onExitCodes?.values?.includes(0))
      causes.push({
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 0: must not be 0 for the In operator',
        field: `spec.podFailurePolicy.rules[${i}].onExitCodes.values[${rule.onExitCodes.values.indexOf(0)}]`,
      })
  })
  if (spec.podReplacementPolicy !== undefined && spec.podReplacementPolicy !== 'Failed')
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${spec.podReplacementPolicy}": supported values: "Failed"`,
      field: 'spec.podReplacementPolicy',
    })
  return causes
}

/** The first rule a failed pod matches, with the message a FailJob condition carries; null: counted as usual. */
export function matchPodFailurePolicy(job: KObject, pod: KObject): { action: PolicyAction; message: string } | null {
  const rules = (job.spec?.podFailurePolicy?.rules ?? []) as Rule[]
  const where = `${pod.metadata.namespace}/${pod.metadata.name}`
  for (const [i, rule] of rules.entries()) {
    if (rule.action !== 'FailJob' && rule.action !== 'Ignore' && rule.action !== 'Count') continue
    const action = rule.action
    if (rule.onExitCodes) {
      const { containerName, operator, values = [] } = rule.onExitCodes
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])] as Array<{
        name: string
        state?: { terminated?: { exitCode: number } }
      }>
      const hit = statuses.find((s) => {
        const code = s.state?.terminated?.exitCode
        if (code === undefined || code === 0 || (containerName && s.name !== containerName)) return false
        return operator === 'In' ? values.includes(code) : !values.includes(code)
      })
      if (hit)
        return {
          action,
          message: `Container ${hit.name} for pod ${where} failed with exit code ${hit.state!.terminated!.exitCode} matching ${action} rule at index ${i}`,
        }
    }
    for (const pattern of rule.onPodConditions ?? []) {
      const status = pattern.status ?? 'True'
      const cond = (pod.status?.conditions ?? []).find((c: { type: string; status: string }) => c.type === pattern.type && c.status === status)
      if (cond) return { action, message: `Pod ${where} has condition ${pattern.type} matching ${action} rule at index ${i}` }
    }
  }
  return null
}
