/** An attempt as the Kubernetes executor receives it, for its tests and benchmark (no store behind it). */
import type { AttemptSpec } from '../../runtime/executors/executor.ts'

export function kubeAttempt(
  attemptId: number,
  o: { dagId?: string; runId?: string; taskId?: string; executorConfig?: Record<string, unknown>; timeoutMs?: number | null } = {},
): AttemptSpec {
  const dagId = o.dagId ?? 'carla_nightly_dataset'
  const taskId = o.taskId ?? 'simulate'
  const date = '2026-12-02T03:40:00Z'
  return {
    key: `${attemptId}:1`,
    attemptId,
    tiId: attemptId,
    tryNumber: 1,
    maxTries: 1,
    dagId,
    runId: o.runId ?? 'manual__2026-12-02T03:40:00+00:00_ab12',
    taskId,
    mapIndex: attemptId,
    executor: 'kubernetes',
    file: `${dagId}.dag.ts`,
    fileloc: `${dagId}.dag.ts`,
    versionTag: '1',
    task: {
      task_id: taskId,
      timeout_ms: o.timeoutMs ?? null,
      executor: 'kubernetes',
      executor_config: o.executorConfig ?? {},
    } as unknown as AttemptSpec['task'],
    params: {},
    inputs: {},
    item: null,
    infraFailures: 0,
    maxInfraRetries: 3,
    runPk: 1,
    triggeringEvents: [],
    codeDigest: null,
    previousDetails: null,
    claimedBy: null,
    handoff: null,
    logicalDate: date,
    dataIntervalStart: date,
    dataIntervalEnd: date,
  }
}
