import type { SerializedTask } from '../dag/serialize.ts'
import type { DatasetEventInfo } from '../dag/types.ts'
import type { SlotSuccessor } from '../model/slot-handoff.ts'

/**
 * Everything needed to run one attempt, built from the database by loadAttempt(s) (attempt-load.ts) and nowhere
 * else. It holds no host path: `fileloc` is relative to the DAGs folder, which whoever runs it resolves against
 * its own configuration, so a pod and a local process run the same spec.
 */
export interface AttemptSpec {
  /** task_attempt.id: what `forge task run --attempt ID` names. */
  attemptId: number
  /** `${taskInstanceId}:${tryNumber}`: unique per attempt. */
  key: string
  tiId: number
  tryNumber: number
  maxTries: number
  /** Infrastructure failures of the instance before this attempt, and its budget for them. */
  infraFailures: number
  maxInfraRetries: number
  dagId: string
  runId: string
  /** dag_run.id. */
  runPk: number
  taskId: string
  mapIndex: number
  /** The executor its task instance names (null: the launching scheduler's default). */
  executor: string | null
  /** The DAG file, relative to the DAGs folder. */
  fileloc: string
  /** The DAG version id, which busts module caches when the DAG changes. */
  versionTag: string
  task: SerializedTask
  params: unknown
  inputs: unknown
  item: unknown
  logicalDate: string
  dataIntervalStart: string
  dataIntervalEnd: string
  /** The run's code digest (runtime/dag/code-digest.ts), null for a run recorded without one. */
  codeDigest: string | null
  /** The dataset events that started the run, oldest first (timestamps as ISO strings: specs travel as JSON). */
  triggeringEvents: Array<Omit<DatasetEventInfo, 'timestamp'> & { timestamp: string }>
  /** What an earlier try last passed to heartbeat(), or null. */
  previousDetails: unknown
  /** Who claimed the instance; a successor handed this attempt's slot is claimed for the same owner. */
  claimedBy: string | null
  /** The successor this attempt's success hands its slot to, if any (model/slot-handoff.ts). */
  handoff: SlotSuccessor | null
}
