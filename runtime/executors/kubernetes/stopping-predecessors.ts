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

/** A retry waits this long at most for an earlier try's pod to stop: past any grace period, a node that is gone. */
export const PREDECESSOR_WAIT_MS = 10 * 60_000

/**
 * Waits until `stopping()` (read from the pod watch's cache: no API call) is empty; 'abandoned' as soon as
 * `abandoned()` says so (cancelled, closed), 'timed out' after `maxMs` (a pod on a node that is gone may never stop).
 */
export async function waitForPredecessors(o: {
  stopping: () => V1Pod[]
  abandoned: () => boolean
  maxMs: number
  pollMs?: number
}): Promise<'stopped' | 'timed out' | 'abandoned'> {
  const deadline = Date.now() + o.maxMs
  for (;;) {
    if (o.abandoned()) return 'abandoned'
    if (o.stopping().length === 0) return 'stopped'
    if (Date.now() >= deadline) return 'timed out'
    await new Promise((r) => setTimeout(r, o.pollMs ?? 100))
  }
}

/** The retry's log line saying what it waits for. */
export function waitingNote(stopping: V1Pod[], tryNumber: number): string {
  const pods = stopping.map((p) => p.metadata?.name).join(', ')
  const tries = [...new Set(stopping.map((p) => p.metadata?.labels?.[`${LABEL_PREFIX}/try`]))].join(', ')
  return `[kubernetes] waiting for pod ${pods} of try ${tries} to stop before starting try ${tryNumber}\n`
}
