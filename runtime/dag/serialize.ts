import { createHash } from 'node:crypto'
import { z } from 'zod'
import { toMs } from '../duration.ts'
import { DagDefinitionError } from '../errors.ts'
import { EXECUTOR_NAMES, isExecutorName } from '../model/executor-names.ts'
import { TRIGGER_RULES, type TriggerRule } from '../model/states.ts'
import { checkCron, checkTimezone } from './check-schedule.ts'
import type { DagDefinition } from './define-dag.ts'
import { defaultParams } from './params.ts'
import type { DagOptions, TaskSettings } from './types.ts'

/** The JSON the scheduler reads; it never imports DAG files (Airflow jobs/adr/0001). */
export interface SerializedTask {
  task_id: string
  kind: 'function' | 'shell'
  operator: string | null
  upstream: string[]
  inputs: unknown
  map_over: unknown
  command: string | null
  env: Record<string, string>
  retries: number
  /** Attempts after infrastructure failures, apart from `retries` (absent in versions serialized before it: 3). */
  infra_retries: number
  retry_delay_ms: number
  retry_backoff: 'fixed' | 'exponential'
  retry_max_delay_ms: number
  timeout_ms: number | null
  trigger_rule: TriggerRule
  pool: string
  pool_slots: number
  priority: number
  isolation: 'process' | 'thread'
  /** Dataset URIs the task declares it produces. */
  outlets: string[]
  /**
   * The executor that runs it (EXECUTOR_NAMES), and the task's settings for that executor; null: the scheduler's
   * default executor (FORGE_DEFAULT_EXECUTOR). Versions serialized before null existed say 'local' for "none named".
   */
  executor: string | null
  executor_config: Record<string, unknown>
}

export interface SerializedDag {
  dag_id: string
  fileloc: string
  description: string | null
  /** The cron schedule; null for manual-only and dataset-scheduled DAGs. */
  schedule: string | null
  /** Set for a DAG scheduled on datasets (schedule is null then). */
  dataset_schedule: { datasets: string[]; batch: boolean } | null
  timezone: string
  start_date: string | null
  catchup: boolean
  max_active_runs: number
  max_active_tasks: number
  tags: string[]
  /** JSON Schema of the params (for the UI), and the params with every default applied. */
  params_schema: unknown
  /** null when a run without conf cannot be valid; `params_error` then says why, naming the field. */
  default_params: unknown
  /** Absent in versions serialized before it existed (their `default_params` is null in that case). */
  params_error?: string | null
  tasks: SerializedTask[]
  /**
   * The code digest of the file and its local modules (code-digest.ts), added by the processor, which computes it
   * before the file is imported. Absent when a DAG is serialized without its file (tests, versions before it).
   */
  code_digest?: string | null
}

const datasetUri = z.string().min(1, 'a dataset URI must not be empty').max(1000)
/** Infrastructure retries of a task that sets none. */
export const DEFAULT_INFRA_RETRIES = 3

const settingsSchema = z.object({
  retries: z.number().int().min(0).max(100).default(0),
  infraRetries: z.number().int().min(0).max(100).default(DEFAULT_INFRA_RETRIES),
  retryDelay: z.union([z.number(), z.string()]).default('10s'),
  retryBackoff: z.enum(['fixed', 'exponential']).default('fixed'),
  retryMaxDelay: z.union([z.number(), z.string()]).default('10m'),
  timeout: z.union([z.number(), z.string()]).optional(),
  triggerRule: z.enum(TRIGGER_RULES).default('all_success'),
  pool: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{1,64}$/)
    .default('default_pool'),
  poolSlots: z.number().int().min(1).default(1),
  priority: z.number().int().default(1),
  isolation: z.enum(['process', 'thread']).default('process'),
  outlets: z.array(datasetUri).default([]),
  executor: z
    .string()
    .refine(isExecutorName, { error: (issue) => `names no known executor "${String(issue.input)}" (known: ${EXECUTOR_NAMES.join(', ')})` })
    .optional(),
  executorConfig: z.record(z.string(), z.unknown()).default({}),
})

function checkSettings(where: string, raw: TaskSettings): z.output<typeof settingsSchema> {
  const parsed = settingsSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new DagDefinitionError(`${where}: option "${issue.path.join('.')}" ${issue.message}`)
  }
  return parsed.data
}

const datasetScheduleSchema = z
  .object({ datasets: z.array(datasetUri).min(1, 'a dataset schedule names at least one dataset'), batch: z.boolean().default(false) })
  .strict()

function checkSchedule(
  dagId: string,
  schedule: DagOptions['schedule'],
  timezone: string,
): { cron: string | null; datasets: SerializedDag['dataset_schedule'] } {
  checkTimezone(dagId, timezone)
  if (schedule == null) return { cron: null, datasets: null }
  if (typeof schedule === 'string') {
    checkCron(dagId, schedule, timezone)
    return { cron: schedule, datasets: null }
  }
  const parsed = datasetScheduleSchema.safeParse(schedule)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new DagDefinitionError(`dag "${dagId}": schedule${issue.path.length ? '.' + issue.path.join('.') : ''} ${issue.message}`)
  }
  return { cron: null, datasets: { datasets: [...new Set(parsed.data.datasets)].sort(), batch: parsed.data.batch } }
}

export function serializeDag(def: DagDefinition, fileloc: string): SerializedDag {
  const o = def.options
  const timezone = o.timezone ?? 'UTC'
  const schedule = checkSchedule(def.id, o.schedule, timezone)
  const dagDefaults = o.defaults ?? {}
  const tasks: SerializedTask[] = [...def.tasks.values()].map((t) => {
    const s = checkSettings(`dag "${def.id}" task "${t.id}"${t.site ? ` (${t.site})` : ''}`, { ...dagDefaults, ...t.settings })
    const where = `task "${t.id}"`
    return {
      task_id: t.id,
      kind: t.kind,
      operator: t.operator,
      upstream: t.upstream,
      inputs: t.inputs,
      map_over: t.mapOver,
      command: t.command,
      env: t.env,
      retries: s.retries,
      infra_retries: s.infraRetries,
      retry_delay_ms: toMs(s.retryDelay as string, `${where} retryDelay`),
      retry_backoff: s.retryBackoff,
      retry_max_delay_ms: toMs(s.retryMaxDelay as string, `${where} retryMaxDelay`),
      timeout_ms: s.timeout === undefined ? null : toMs(s.timeout as string, `${where} timeout`),
      trigger_rule: s.triggerRule,
      pool: s.pool,
      pool_slots: s.poolSlots,
      priority: s.priority,
      isolation: t.kind === 'shell' ? 'process' : s.isolation,
      outlets: [...new Set(s.outlets)],
      executor: s.executor ?? null,
      executor_config: s.executorConfig,
    }
  })
  const params = defaultParams(def)
  let paramsSchema: unknown = null
  if (o.params) {
    try {
      paramsSchema = z.toJSONSchema(o.params, { unrepresentable: 'any' })
    } catch {
      paramsSchema = null
    }
  }
  const positive = (v: number | undefined, dflt: number, name: string) => {
    const n = v ?? dflt
    if (!Number.isInteger(n) || n < 1) throw new DagDefinitionError(`dag "${def.id}": ${name} must be a positive integer, got ${v}`)
    return n
  }
  return {
    dag_id: def.id,
    fileloc,
    description: o.description ?? null,
    schedule: schedule.cron,
    dataset_schedule: schedule.datasets,
    timezone,
    start_date: o.startDate ? new Date(o.startDate).toISOString() : null,
    catchup: o.catchup ?? false,
    max_active_runs: positive(o.maxActiveRuns, 16, 'maxActiveRuns'),
    max_active_tasks: positive(o.maxActiveTasks, 64, 'maxActiveTasks'),
    tags: o.tags ?? [],
    params_schema: paramsSchema,
    ...params,
    tasks,
  }
}

/**
 * A DAG version's identity: its shape and its code. A new dag_version row is written only when this changes, so an
 * edit to a task body or to a helper module (same shape, new code digest) is a new version.
 */
export function dagVersionHash(dag: SerializedDag): string {
  const { code_digest: code, ...shape } = dag
  // Without a digest the hash is the shape's alone, as it was before digests existed.
  return createHash('sha256')
    .update(JSON.stringify(shape))
    .update(code ? `\0${code}` : '')
    .digest('hex')
    .slice(0, 32)
}

const taskIndex = new WeakMap<SerializedDag, Map<string, SerializedTask>>()

/** Task lookup by id without a scan: serialized DAGs are immutable, so the index is built once per object. */
export function taskOf(dag: SerializedDag, taskId: string): SerializedTask | undefined {
  let index = taskIndex.get(dag)
  if (!index) {
    index = new Map(dag.tasks.map((t) => [t.task_id, t]))
    taskIndex.set(dag, index)
  }
  return index.get(taskId)
}

const downstreamIndex = new WeakMap<SerializedDag, Map<string, SerializedTask[]>>()

/** The tasks that list `taskId` as an upstream, in declaration order. */
export function downstreamTasks(dag: SerializedDag, taskId: string): SerializedTask[] {
  let index = downstreamIndex.get(dag)
  if (!index) {
    index = new Map()
    for (const t of dag.tasks) {
      for (const up of t.upstream) {
        const list = index.get(up)
        if (list) list.push(t)
        else index.set(up, [t])
      }
    }
    downstreamIndex.set(dag, index)
  }
  return index.get(taskId) ?? []
}
