/**
 * What a Job and its pod say about an attempt (docs/kubernetes.md §4). The runner inside the pod records its own
 * result; this verdict matters when it could not: the pod never started, was killed, or its node went away. The
 * class decides whose budget a retry spends: `task` failures spend the task's retries, `infrastructure` ones
 * (disruptions, evictions, node loss) the separate infrastructure budget.
 */
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node'
import { WORKER_CONTAINER } from './job-manifest.ts'

export type FailureClass = 'task' | 'infrastructure'

export type AttemptVerdict =
  | { state: 'pending'; suspended: boolean; unschedulable: string | null; waiting: string | null }
  | { state: 'running' }
  | { state: 'succeeded' }
  | { state: 'failed'; failureClass: FailureClass; nonRetryable: boolean; reason: string; unexplained?: true }

/** Waiting reasons a retry cannot fix: the image or the pod's configuration is wrong. */
const CONFIG_ERRORS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError'])

function fail(failureClass: FailureClass, reason: string, nonRetryable = false): AttemptVerdict {
  return { state: 'failed', failureClass, nonRetryable, reason }
}

function condition(obj: { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } }, type: string) {
  return obj.status?.conditions?.find((c) => c.type === type && c.status === 'True')
}

function allStatuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
}

function podVerdict(pod: V1Pod): AttemptVerdict | null {
  const disruption = condition(pod, 'DisruptionTarget')
  if (disruption) return fail('infrastructure', `disrupted: ${disruption.reason ?? 'DisruptionTarget'}: ${disruption.message ?? ''}`.trim())
  const podReason = pod.status?.reason
  if (podReason === 'Evicted') return fail('infrastructure', `evicted: ${pod.status?.message ?? ''}`.trim())
  if (podReason === 'Terminated' || podReason === 'NodeShutdown' || podReason === 'Preempting') {
    return fail('infrastructure', `node shutdown: ${pod.status?.message ?? podReason}`)
  }
  for (const s of allStatuses(pod)) {
    const waiting = s.state?.waiting
    if (waiting?.reason && CONFIG_ERRORS.has(waiting.reason)) {
      const what =
        waiting.reason === 'CreateContainerConfigError'
          ? 'cannot be configured (a missing Secret or ConfigMap?)'
          : `cannot pull image ${JSON.stringify(s.image)}`
      return fail('task', `${waiting.reason}: container "${s.name}" ${what}: ${waiting.message ?? ''}`.trim(), true)
    }
  }
  const worker = pod.status?.containerStatuses?.find((s) => s.name === WORKER_CONTAINER)
  const ended = worker?.state?.terminated
  if (ended) {
    if (ended.exitCode === 0) return { state: 'succeeded' }
    if (ended.reason === 'OOMKilled') return fail('task', `OOMKilled: the worker exceeded its memory limit (exit code ${ended.exitCode})`)
    return fail(
      'task',
      `the worker exited with code ${ended.exitCode}${ended.signal ? ` (signal ${ended.signal})` : ''}${ended.reason ? ` (${ended.reason})` : ''}`,
    )
  }
  if (pod.status?.phase === 'Failed')
    return fail('infrastructure', `pod failed: ${podReason ?? 'unknown reason'}: ${pod.status?.message ?? ''}`.trim())
  if (pod.metadata?.deletionTimestamp && !worker?.state?.running) return fail('infrastructure', 'pod deleted before its worker ran')
  return null
}

/** `pod` is the Job's latest pod, or null when there is none (not created yet, or deleted). */
export function classifyAttempt(job: V1Job, pod: V1Pod | null): AttemptVerdict {
  const fromPod = pod ? podVerdict(pod) : null
  if (fromPod && fromPod.state === 'failed') return fromPod
  const failed = condition(job, 'FailureTarget') ?? condition(job, 'Failed')
  if (failed?.reason === 'DeadlineExceeded') {
    return fail('task', `timed out after ${job.spec?.activeDeadlineSeconds ?? '?'}s (the Job's activeDeadlineSeconds)`)
  }
  if (fromPod) return fromPod
  if (condition(job, 'SuccessCriteriaMet') || condition(job, 'Complete')) return { state: 'succeeded' }
  // Pods and Jobs arrive on separate watches: the pod that explains this failure may still be on its way.
  if (failed)
    return {
      ...fail('infrastructure', `the Job failed without a pod to say why: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim()),
      unexplained: true,
    } as AttemptVerdict
  if (job.spec?.suspend || condition(job, 'Suspended')) return { state: 'pending', suspended: true, unschedulable: null, waiting: null }
  if (!pod || pod.status?.phase === 'Pending' || !pod.status?.phase) {
    const unscheduled = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable')
    const waiting = pod ? allStatuses(pod).find((s) => s.state?.waiting?.reason)?.state?.waiting : undefined
    return {
      state: 'pending',
      suspended: false,
      unschedulable: unscheduled?.message ?? null,
      waiting: waiting ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` : null,
    }
  }
  return { state: 'running' }
}
