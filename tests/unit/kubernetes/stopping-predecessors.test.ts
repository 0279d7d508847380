import type { V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { attemptAnnotations, attemptLabels, type AttemptIdentity } from '../../../runtime/executors/kubernetes/job-identity.ts'
import { stoppingPredecessors } from '../../../runtime/executors/kubernetes/stopping-predecessors.ts'

const retry: AttemptIdentity = {
  attemptId: 12,
  dagId: 'carla_nightly',
  runId: 'manual__2026-12-02T03:40:00+00:00_ab12',
  taskId: 'simulate',
  mapIndex: 3,
  tryNumber: 2,
}

function pod(
  name: string,
  o: { of?: Partial<AttemptIdentity>; marked?: 'deleted' | 'disrupted' | null; worker?: 'running' | 'terminated'; sidecar?: 'running' },
): V1Pod {
  const a = { ...retry, attemptId: 11, tryNumber: 1, ...o.of }
  const state = (s: string | undefined) =>
    s === 'running' ? { running: {} } : s === 'terminated' ? { terminated: { exitCode: 143 } } : { waiting: {} }
  return {
    metadata: {
      name,
      labels: attemptLabels(a),
      annotations: attemptAnnotations(a),
      deletionTimestamp: o.marked === 'deleted' ? new Date() : undefined,
    },
    status: {
      phase: 'Running',
      conditions: o.marked === 'disrupted' ? [{ type: 'DisruptionTarget', status: 'True' }] : [],
      initContainerStatuses: o.sidecar ? [{ name: 'carla', image: 'carla', imageID: '', ready: true, restartCount: 0, state: state(o.sidecar) }] : [],
      containerStatuses: [{ name: 'worker', image: 'forge', imageID: '', ready: true, restartCount: 0, state: state(o.worker) }],
    },
  }
}

describe('stoppingPredecessors: what a retry waits for', () => {
  it("waits for an earlier try's pod that is marked for deletion or disrupted while a container still runs", () => {
    const pods = [
      pod('deleted', { marked: 'deleted', worker: 'running' }),
      pod('disrupted', { marked: 'disrupted', worker: 'running' }),
      pod('sidecar-still-up', { marked: 'deleted', worker: 'terminated', sidecar: 'running' }),
    ]
    expect(stoppingPredecessors(pods, retry).map((p) => p.metadata!.name)).toEqual(['deleted', 'disrupted', 'sidecar-still-up'])
  })

  it('does not wait for pods that stopped, that nobody is stopping, or that are not an earlier try of this instance', () => {
    const pods = [
      pod('stopped', { marked: 'deleted', worker: 'terminated' }),
      pod('not-stopping', { marked: null, worker: 'running' }),
      pod('other-map-index', { marked: 'deleted', worker: 'running', of: { mapIndex: 4 } }),
      pod('other-run', { marked: 'deleted', worker: 'running', of: { runId: 'manual__2026-12-02T03:40:00+00:00_cd34' } }),
      pod('same-try', { marked: 'deleted', worker: 'running', of: { tryNumber: 2 } }),
    ]
    expect(stoppingPredecessors(pods, retry)).toEqual([])
  })
})
