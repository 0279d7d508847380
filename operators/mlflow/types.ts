/**
 * The wire shapes the client reads and writes (docs/mlflow-rest.md §2-4), snake_case as on the wire. Repeated
 * fields are optional because the server omits empty ones.
 */
export interface KeyValue {
  key: string
  value: string
}

export interface Experiment {
  experiment_id: string
  name: string
  artifact_location?: string
  lifecycle_stage: 'active' | 'deleted'
  last_update_time?: number
  creation_time?: number
  tags?: KeyValue[]
}

export const RunStatus = { Running: 'RUNNING', Scheduled: 'SCHEDULED', Finished: 'FINISHED', Failed: 'FAILED', Killed: 'KILLED' } as const
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus]

export interface RunInfo {
  run_id: string
  run_uuid?: string
  run_name?: string
  experiment_id: string
  user_id?: string
  status: RunStatus
  start_time?: number
  end_time?: number
  artifact_uri?: string
  lifecycle_stage: 'active' | 'deleted'
}

export interface Metric {
  key: string
  value: number
  /** Epoch ms. */
  timestamp: number
  step?: number
}

export interface DatasetSpec {
  name: string
  /** At most 36 characters: a 32-hex md5 fits. */
  digest: string
  source_type: string
  /** A JSON string, e.g. '{"uri": "s3://…"}'. */
  source: string
  schema?: string
  profile?: string
}

export interface DatasetInput {
  tags?: KeyValue[]
  dataset: DatasetSpec
}

export interface Run {
  info: RunInfo
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] }
  inputs?: { dataset_inputs?: DatasetInput[] }
}

export interface ModelVersion {
  name: string
  version: string
  creation_timestamp?: number
  last_updated_timestamp?: number
  current_stage?: string
  description?: string
  source: string
  run_id?: string
  status?: string
  tags?: KeyValue[]
  aliases?: string[]
}

export interface RegisteredModel {
  name: string
  creation_timestamp?: number
  last_updated_timestamp?: number
  description?: string
  latest_versions?: ModelVersion[]
  tags?: KeyValue[]
  aliases?: Array<{ alias: string; version: string }>
}
