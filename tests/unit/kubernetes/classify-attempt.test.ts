import type { V1Job, V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { classifyAttempt } from '../../../runtime/executors/kubernetes/classify-attempt.ts'

// Pod and Job status shapes as the API server and kubelet write them (docs/kubernetes.md §4).
const job = (status: V1Job['status'] = {}, spec: Partial<V1Job['spec']> = {}): V1Job => ({
  metadata: { name: 'j' },
  spec: { template: {}, activeDeadlineSeconds: 600, ...spec },
  status,
})
const pod = (status: V1Pod['status'], meta: V1Pod['metadata'] = {}): V1Pod => ({ metadata: { name: 'j-x7k2q', ...meta }, status })
const worker = (state: object, extra: object = {}) => ({
  name: 'worker',
  image: 'registry/forge:1',
  ready: false,
  restartCount: 0,
  imageID: '',
  state,
  ...extra,
})

describe('classifyAttempt', () => {
  it('a pod waiting on an unpullable image or a missing Secret fails without retry, as a task error', () => {
    const pull = classifyAttempt(
      job(),
      pod({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [worker({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:nope"' } })],
      }),
    )
    expect(pull).toMatchObject({ state: 'failed', failureClass: 'task', nonRetryable: true })
    expect((pull as { reason: string }).reason).toMatch(
      /^ImagePullBackOff: container "worker" cannot pull image "registry\/forge:1": Back-off pulling image/,
    )
    const cfg = classifyAttempt(
      job(),
      pod({
        phase: 'Pending',
        containerStatuses: [worker({ waiting: { reason: 'CreateContainerConfigError', message: 'secret "aws" not found' } })],
      }),
    )
    expect(cfg).toMatchObject({ state: 'failed', failureClass: 'task', nonRetryable: true })
    expect((cfg as { reason: string }).reason).toMatch(/secret "aws" not found/)
  })

  it('OOMKilled and non-zero exits are task failures that may be retried', () => {
    const oom = classifyAttempt(job(), pod({ phase: 'Failed', containerStatuses: [worker({ terminated: { exitCode: 137, reason: 'OOMKilled' } })] }))
    expect(oom).toMatchObject({ state: 'failed', failureClass: 'task', nonRetryable: false })
    expect((oom as { reason: string }).reason).toMatch(/^OOMKilled/)
    const exit = classifyAttempt(job(), pod({ phase: 'Failed', containerStatuses: [worker({ terminated: { exitCode: 3, reason: 'Error' } })] }))
    expect(exit).toMatchObject({ state: 'failed', failureClass: 'task', reason: 'the worker exited with code 3 (Error)' })
  })

  it('every disruption reason, eviction and node shutdown is an infrastructure failure', () => {
    for (const reason of ['PreemptionByScheduler', 'DeletionByTaintManager', 'EvictionByEvictionAPI', 'DeletionByPodGC', 'TerminationByKubelet']) {
      const v = classifyAttempt(
        job(),
        pod(
          { phase: 'Running', conditions: [{ type: 'DisruptionTarget', status: 'True', reason, message: 'm' }] },
          { deletionTimestamp: new Date() },
        ),
      )
      expect(v).toMatchObject({ state: 'failed', failureClass: 'infrastructure', nonRetryable: false, reason: `disrupted: ${reason}: m` })
    }
    const evicted = classifyAttempt(job(), pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory. ' }))
    expect(evicted).toMatchObject({ failureClass: 'infrastructure', reason: 'evicted: The node was low on resource: memory.' })
    const shutdown = classifyAttempt(
      job(),
      pod({ phase: 'Failed', reason: 'Terminated', message: 'Pod was terminated in response to imminent node shutdown.' }),
    )
    expect(shutdown).toMatchObject({ failureClass: 'infrastructure' })
    const deleted = classifyAttempt(job(), pod({ phase: 'Pending' }, { deletionTimestamp: new Date() }))
    expect(deleted).toMatchObject({ failureClass: 'infrastructure', reason: 'pod deleted before its worker ran' })
  })

  it('a disruption wins over the exit code it caused (a preempted worker killed by SIGTERM)', () => {
    const v = classifyAttempt(
      job(),
      pod({
        phase: 'Failed',
        conditions: [
          {
            type: 'DisruptionTarget',
            status: 'True',
            reason: 'PreemptionByScheduler',
            message: 'default-scheduler: preempting to accommodate a higher priority pod',
          },
        ],
        containerStatuses: [worker({ terminated: { exitCode: 143, reason: 'Error' } })],
      }),
    )
    expect(v).toMatchObject({ failureClass: 'infrastructure' })
  })

  it('DeadlineExceeded is a timeout of the task, seen on the interim condition already', () => {
    const v = classifyAttempt(
      job({
        conditions: [{ type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }],
      }),
      pod({ phase: 'Running', containerStatuses: [worker({ running: {} })] }),
    )
    expect(v).toEqual({
      state: 'failed',
      failureClass: 'task',
      nonRetryable: false,
      reason: "timed out after 600s (the Job's activeDeadlineSeconds)",
    })
  })

  it('pending, unschedulable, suspended, running and succeeded', () => {
    expect(classifyAttempt(job(), null)).toEqual({ state: 'pending', suspended: false, unschedulable: null, waiting: null })
    const unsched = classifyAttempt(
      job(),
      pod({
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' },
        ],
      }),
    )
    expect(unsched).toMatchObject({ state: 'pending', unschedulable: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' })
    expect(classifyAttempt(job({}, { suspend: true }), null)).toMatchObject({ state: 'pending', suspended: true })
    expect(classifyAttempt(job(), pod({ phase: 'Running', containerStatuses: [worker({ running: {} })] }))).toEqual({ state: 'running' })
    expect(
      classifyAttempt(job(), pod({ phase: 'Succeeded', containerStatuses: [worker({ terminated: { exitCode: 0, reason: 'Completed' } })] })),
    ).toEqual({ state: 'succeeded' })
    expect(classifyAttempt(job({ conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }] }), null)).toEqual({ state: 'succeeded' })
    const creating = classifyAttempt(job(), pod({ phase: 'Pending', containerStatuses: [worker({ waiting: { reason: 'ContainerCreating' } })] }))
    expect(creating).toMatchObject({ state: 'pending', waiting: 'ContainerCreating' })
  })

  it('a Job that failed with no pod left is an infrastructure failure', () => {
    const v = classifyAttempt(
      job({
        conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }],
      }),
      null,
    )
    expect(v).toMatchObject({ state: 'failed', failureClass: 'infrastructure' })
  })
})
