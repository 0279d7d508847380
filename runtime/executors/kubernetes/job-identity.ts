/**
 * How an attempt is named and labelled on Kubernetes (docs/kubernetes.md §1). The Job name is derived from the
 * attempt alone, so a create retried after a lost answer meets 409 AlreadyExists and adopts the Job instead of
 * starting a second one. Labels carry sanitised, searchable copies; annotations carry the exact values.
 */
import { createHash } from 'node:crypto'

export interface AttemptIdentity {
  attemptId: number
  dagId: string
  runId: string
  taskId: string
  mapIndex: number
  tryNumber: number
}

export const LABEL_PREFIX = 'adas-forge.io'
export const MANAGED_LABEL = `${LABEL_PREFIX}/managed`
export const ATTEMPT_LABEL = `${LABEL_PREFIX}/attempt-id`

/** A Job name's limit: the server copies it into the pods' `job-name` label, whose values stop at 63 characters. */
export const MAX_JOB_NAME = 63
const HASH_CHARS = 10

/** `[a-z0-9-]` only, no leading or trailing '-', collapsed runs: the DNS-1123 label alphabet. */
function dnsSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

/**
 * `<dag>-<task>-<hash>-<try>`: readable in `kubectl get jobs`, unique per attempt through a hash of every field
 * of the attempt key, and at most 63 characters whatever the ids' length.
 */
export function jobName(a: AttemptIdentity): string {
  const hash = createHash('sha256')
    .update([a.dagId, a.runId, a.taskId, String(a.mapIndex), String(a.tryNumber)].join('\0'))
    .digest('hex')
    .slice(0, HASH_CHARS)
  const tail = `-${hash}-${a.tryNumber}`
  const room = MAX_JOB_NAME - tail.length - 1
  const base = dnsSlug(`${a.dagId}-${a.taskId}${a.mapIndex >= 0 ? `-${a.mapIndex}` : ''}`)
    .slice(0, room)
    .replace(/-+$/, '')
  return `${base || 'task'}${tail}`.replace(/^-/, '')
}

/** The executor id an attempt's Job goes by (task_attempt.executor_id, `forge tasks list`): `k8s:NAMESPACE/NAME`. */
export function executorIdOf(namespace: string, name: string): string {
  return `k8s:${namespace}/${name}`
}

/** A label value: at most 63 characters of `[A-Za-z0-9_.-]`, starting and ending with an alphanumeric one. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 63)
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '')
}

export function attemptLabels(a: AttemptIdentity): Record<string, string> {
  return {
    [MANAGED_LABEL]: 'true',
    [ATTEMPT_LABEL]: String(a.attemptId),
    [`${LABEL_PREFIX}/dag`]: labelValue(a.dagId),
    [`${LABEL_PREFIX}/run`]: labelValue(a.runId),
    [`${LABEL_PREFIX}/task`]: labelValue(a.taskId),
    [`${LABEL_PREFIX}/map-index`]: String(a.mapIndex),
    [`${LABEL_PREFIX}/try`]: String(a.tryNumber),
  }
}

export function attemptAnnotations(a: AttemptIdentity): Record<string, string> {
  return {
    [`${LABEL_PREFIX}/dag-id`]: a.dagId,
    [`${LABEL_PREFIX}/run-id`]: a.runId,
    [`${LABEL_PREFIX}/task-id`]: a.taskId,
  }
}

/** The attempt a Job belongs to, read back from its labels (adoption after a restart); null for a foreign Job. */
export function attemptIdOf(labels: Record<string, string> | undefined): number | null {
  if (labels?.[MANAGED_LABEL] !== 'true') return null
  const id = Number(labels[ATTEMPT_LABEL])
  return Number.isInteger(id) && id > 0 ? id : null
}
