/**
 * The pods of earlier tries of an attempt's task instance that are still stopping. A disrupted pod (preempted,
 * evicted, its Job deleted) is marked for deletion at once, but its containers run on through their grace period
 * (docs/kubernetes.md §4): a retry started then would overlap it, two workers on one shard and its GPU.
 */
import type { V1Pod } from '@kubernetes/client-node'
import { LABEL_PREFIX, type AttemptIdentity } from './job-identity.ts'

/** A pod marked for deletion or disrupted whose containers have not all stopped. */
export function isStopping(pod: V1Pod): boolean {
  const marked = !!pod.metadata?.deletionTimestamp || !!pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True')
  if (!marked || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
  return statuses.some((s) => !!s.state?.running)
}

/** Pods of tries before `a`'s of the same instance (exact ids from the annotations) that are still stopping. */
export function stoppingPredecessors(pods: Iterable<V1Pod>, a: AttemptIdentity): V1Pod[] {
  return [...pods].filter((pod) => {
    const labels = pod.metadata?.labels ?? {}
    const notes = pod.metadata?.annotations ?? {}
    return (
      notes[`${LABEL_PREFIX}/dag-id`] === a.dagId &&
      notes[`${LABEL_PREFIX}/run-id`] === a.runId &&
      notes[`${LABEL_PREFIX}/task-id`] === a.taskId &&
      labels[`${LABEL_PREFIX}/map-index`] === String(a.mapIndex) &&
      Number(labels[`${LABEL_PREFIX}/try`]) < a.tryNumber &&
      isStopping(pod)
    )
  })
}
