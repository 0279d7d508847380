import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely'
import type { FailureClass } from '../model/failure.ts'
import type { RunState, TaskState } from '../model/states.ts'

/** Row types at the store boundary stay snake_case, as the tables are (STYLE §2). */
type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json<T = unknown> = ColumnType<T, string, string>
/** int8 columns: pg returns strings unless told otherwise; both drivers are set to give numbers (see connect.ts). */
type Id = ColumnType<number, never, never>

export interface DagTable {
  dag_id: string
  fileloc: string
  is_paused: Generated<boolean>
  is_active: Generated<boolean>
  schedule: string | null
  timezone: string
  catchup: boolean
  max_active_runs: number
  max_active_tasks: number
  latest_version_id: number | null
  /** {datasets, batch} for a DAG scheduled on datasets; null otherwise. */
  dataset_schedule: Json | null
  /** The last dataset event this DAG has consumed (dataset-triggered runs start after it). */
  last_dataset_event_id: Generated<number>
  /** Logical date of the next scheduled run; null when the DAG has no schedule. */
  next_dagrun: Timestamp | null
  next_dagrun_create_after: Timestamp | null
  last_parsed_at: Timestamp
}

export interface DagVersionTable {
  id: Generated<number>
  dag_id: string
  version_hash: string
  serialized: Json
  /** The code digest (runtime/dag/code-digest.ts) the version was processed from; part of version_hash. */
  code_digest: string | null
  created_at: Generated<Date>
}

export interface DagRunTable {
  id: Generated<number>
  dag_id: string
  run_id: string
  run_type: string
  state: RunState
  logical_date: Timestamp
  data_interval_start: Timestamp
  data_interval_end: Timestamp
  conf: Json
  dag_version_id: number
  queued_at: Generated<Date>
  start_date: Timestamp | null
  end_date: Timestamp | null
  last_examined_at: Timestamp | null
  /** Why the run is in its state, for people (a run that could not be decided says why here). */
  reason: string | null
  /** The code digest of the run's DAG version: the code the run started with. */
  code_digest: Generated<string | null>
}

export interface TaskInstanceTable {
  id: Generated<number>
  dag_run_id: number
  dag_id: string
  run_id: string
  task_id: string
  map_index: Generated<number>
  state: TaskState | null
  try_number: Generated<number>
  max_tries: number
  run_after: Timestamp | null
  pool: string
  pool_slots: number
  priority_weight: number
  claimed_by: string | null
  last_heartbeat_at: Timestamp | null
  start_date: Timestamp | null
  end_date: Timestamp | null
  executor_id: string | null
  /** Why the instance is in its state, for people: "timed out after 2s", "heartbeat lost", … */
  reason: string | null
  updated_at: Generated<Date>
  /** The executor that runs it (null: its scheduler's default), and the task's settings for that executor. */
  executor: string | null
  executor_config: ColumnType<Record<string, unknown>, Record<string, unknown> | string | undefined, Record<string, unknown> | string>
  /** Infrastructure failures so far (runner or scheduler died, attempt lost): they never spend `max_tries`. */
  infra_failures: Generated<number>
  max_infra_retries: Generated<number>
}

export interface TaskAttemptTable {
  id: Generated<number>
  task_instance_id: number
  try_number: number
  state: string
  scheduler_id: string
  executor_id: string | null
  start_date: Generated<Date>
  end_date: Timestamp | null
  reason: string | null
  /** The whole log of attempts recorded before logs were chunked; newer attempts keep theirs in task_log_chunk. */
  log: Generated<string>
  /** The code digest the attempt ran (checkCodeDigest's `ran`); differs from its run's after an edit. */
  code_digest: Generated<string | null>
  /** Why an unsuccessful attempt ended: its code failed or timed out, or its infrastructure lost it. */
  failure_class: FailureClass | null
  runner_id: string | null
  last_heartbeat_at: Timestamp | null
  heartbeat_details: Json | null
  /** The datasets the attempt declared, `[{uri, extra}]`; recorded as dataset events when it succeeds. */
  outlets: Json | null
  /** How many log chunks the store has numbered for this attempt (attempt-log.ts STORE_NUMBERED_SEQ). */
  log_appends: Generated<number>
}

export interface TaskLogChunkTable {
  attempt_id: number
  seq: number
  text: string
  created_at: Generated<Date>
}

export interface XcomTable {
  task_instance_id: number
  dag_run_id: number
  task_id: string
  map_index: number
  value: Json
  size_bytes: number
  created_at: Generated<Date>
}

export interface PoolTable {
  name: string
  slots: number
  description: Generated<string>
}

export interface ImportErrorTable {
  id: Generated<number>
  filename: string
  line: number | null
  message: string
  timestamp: Generated<Date>
}

export interface DatasetTable {
  id: Generated<number>
  uri: string
  extra: Json
  created_at: Generated<Date>
}

export interface DatasetEventTable {
  id: Generated<number>
  dataset_id: number
  source_dag_id: string | null
  source_run_id: string | null
  source_task_id: string | null
  source_map_index: number | null
  /** The version the producer recorded (unique per dataset), or null. */
  version: string | null
  extra: Json
  timestamp: Generated<Date>
}

export interface DagRunDatasetEventTable {
  dag_run_id: number
  dataset_event_id: number
}

export interface ApiTokenTable {
  id: Generated<number>
  name: string
  token_hash: string
  role: string
  created_at: Generated<Date>
}

export interface Database {
  dag: DagTable
  dag_version: DagVersionTable
  dag_run: DagRunTable
  task_instance: TaskInstanceTable
  task_attempt: TaskAttemptTable
  task_log_chunk: TaskLogChunkTable
  xcom: XcomTable
  pool: PoolTable
  import_error: ImportErrorTable
  dataset: DatasetTable
  dataset_event: DatasetEventTable
  dag_run_dataset_event: DagRunDatasetEventTable
  api_token: ApiTokenTable
}

export type Db = Kysely<Database>
export type Trx = Transaction<Database>
export type DagRow = Selectable<DagTable>
export type DagRunRow = Selectable<DagRunTable>
export type TaskInstanceRow = Selectable<TaskInstanceTable>
export type TaskAttemptRow = Selectable<TaskAttemptTable>
export type NewTaskInstance = Insertable<TaskInstanceTable>
export type { Id }
