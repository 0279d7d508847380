import type { z } from 'zod'
import type { Duration } from '../duration.ts'
import type { TriggerRule } from '../model/states.ts'
import type { Out, Ref, Resolved } from './ref.ts'

/** Per-task settings; the same keys in `defineDag({ defaults })` apply to every task that does not set them. */
export interface TaskSettings {
  /** Extra attempts after the first (default 0). */
  retries?: number
  /**
   * Extra attempts after infrastructure failures (its runner or scheduler died, its executor lost it), counted
   * apart from `retries`, which only the task's own failures spend (default 3).
   */
  infraRetries?: number
  /** Wait before a retry (default 10s). */
  retryDelay?: Duration
  /** 'exponential' doubles the delay each attempt, with ±25% jitter, up to `retryMaxDelay` (default 'fixed'). */
  retryBackoff?: 'fixed' | 'exponential'
  /** Cap for exponential backoff (default 10m). */
  retryMaxDelay?: Duration
  /** Per-attempt limit; the attempt is killed and its state says it timed out (default: none). */
  timeout?: Duration
  triggerRule?: TriggerRule
  /** Pool name (default 'default_pool'); slots are shared across every DAG. */
  pool?: string
  poolSlots?: number
  /** Higher runs first among tasks waiting for slots (default 1). */
  priority?: number
  /** 'process' (a child process per attempt, the default) or 'thread' (a worker thread, for light tasks). */
  isolation?: 'process' | 'thread'
  /**
   * Datasets (URIs) the task produces. Each success records a dataset event for each, which starts the DAGs
   * scheduled on it; `ctx.outlet(uri, { version })` inside the task records the version it produced.
   */
  outlets?: string[]
  /** The executor that runs its attempts (default 'local'); a name no executor has is an import error. */
  executor?: string
  /** Settings for that executor, stored with the task (JSON). */
  executorConfig?: Record<string, unknown>
}

export interface TaskOptions extends TaskSettings {
  /** Order-only upstreams, by task id or handle (like Dagster's deps). */
  after?: Array<string | TaskHandle<unknown>>
}

export interface TaskLogger {
  (message: string, fields?: Record<string, unknown>): void
}

/** What a task function receives at run time. */
export interface TaskContext<P = unknown, I = unknown, Item = unknown> {
  params: P
  inputs: I
  /** The element of the mapped-over list (mapped tasks only). */
  item: Item
  dagId: string
  runId: string
  taskId: string
  mapIndex: number
  tryNumber: number
  maxTries: number
  logicalDate: Date
  dataIntervalStart: Date
  dataIntervalEnd: Date
  /** Aborted on timeout or cancellation; long work should pass it on and stop. */
  signal: AbortSignal
  log: TaskLogger
  /** Reports progress (frames, bytes, items); shown on a TTY and logged otherwise. */
  progress(done: number, total: number | null, unit: string): void
  /** The dataset events that started this run (dataset-scheduled DAGs), oldest first; empty otherwise. */
  triggeringEvents: DatasetEventInfo[]
  /** Stable across tries of this task instance (`${dagId}/${runId}/${taskId}/${mapIndex}`): key external effects on it. */
  idempotencyKey: string
  /** An empty folder for this attempt's scratch files (under FORGE_HOME/scratch), removed after the attempt. */
  scratchDir: string
  /** What the previous try of this instance last passed to heartbeat(), or null (first try, or none recorded). */
  previousDetails: unknown
  /** Stores `details` (JSON) durably with this attempt, so a retry can resume; also proves the attempt alive. */
  heartbeat(details?: unknown): Promise<void>
  /** Declares a dataset this attempt produced; recorded as a dataset event when the attempt succeeds. */
  outlet(uri: string, extra?: Record<string, unknown>): void
}

export type TaskFn<P, I, R, Item = unknown> = (ctx: TaskContext<P, I, Item>) => R | Promise<R>

/** What operator factories return: code plus its (possibly ref-holding) inputs. */
export interface FunctionTaskSpec<I, R, Item = unknown> {
  kind: 'function'
  /** Operator name for the UI and lineage, e.g. 'carla.generate'. */
  operator?: string
  inputs: I
  run: TaskFn<unknown, Resolved<I>, R, Item>
  /** Defaults the operator suggests (a caller's options win). */
  settings?: TaskSettings
}

export interface ShellTaskSpec {
  kind: 'shell'
  /** Run with /bin/sh -c. Inputs reach it as env vars FORGE_INPUT_<NAME> (JSON for non-strings). */
  command: string
  inputs?: Record<string, unknown>
  env?: Record<string, string>
  cwd?: string
}

export interface TaskHandle<R> {
  readonly id: string
  readonly out: Out<R>
}

/** A schedule on datasets instead of a clock (Airflow's data-aware scheduling); build it with `onDatasets()`. */
export interface DatasetSchedule {
  datasets: string[]
  /**
   * false (default): one run per dataset event, of any of the datasets. true: one run once every dataset has at
   * least one new event, with all of them in its context.
   */
  batch?: boolean
}

/** A dataset event that started a run, as tasks see it in `ctx.triggeringEvents`. */
export interface DatasetEventInfo {
  uri: string
  /** What the producer recorded with `ctx.outlet(uri, { version })`, or null. */
  version: string | null
  extra: Record<string, unknown>
  sourceDagId: string | null
  sourceRunId: string | null
  sourceTaskId: string | null
  timestamp: Date
}

export interface DagOptions<S extends z.ZodType = z.ZodType> {
  id: string
  description?: string
  /**
   * A 5-field cron expression, '@daily'-style preset, a schedule on datasets (`onDatasets('s3://…')`), or null
   * for manual runs only.
   */
  schedule?: string | null | DatasetSchedule
  /** IANA zone the cron expression is read in (default 'UTC'). */
  timezone?: string
  /** First logical date (default: the time the DAG was first seen). */
  startDate?: string | Date
  /** Create the runs missed since the last one (default false: only the latest interval). */
  catchup?: boolean
  maxActiveRuns?: number
  /** Cap on running task instances of this DAG across its runs (default 64). */
  maxActiveTasks?: number
  params?: S
  defaults?: TaskSettings
  tags?: string[]
}

export interface DagBuilder<P> {
  task<R>(id: string, run: TaskFn<P, Record<string, never>, R>, options?: TaskOptions): TaskHandle<Awaited<R>>
  task<I, R>(id: string, spec: { inputs: I; run: TaskFn<P, Resolved<I>, R> }, options?: TaskOptions): TaskHandle<Awaited<R>>
  task<R>(id: string, spec: FunctionTaskSpec<unknown, R>, options?: TaskOptions): TaskHandle<Awaited<R>>
  task(id: string, spec: ShellTaskSpec, options?: TaskOptions): TaskHandle<string>
  /** A shell task; its result is the last line it printed. */
  shell(id: string, command: string, options?: TaskOptions & { inputs?: Record<string, unknown>; env?: Record<string, string> }): TaskHandle<string>
  /** One instance per element of `over` (known at run time); the handle's output is the list of results. */
  map<T, R>(id: string, over: Ref<readonly T[]>, run: TaskFn<P, Record<string, never>, R, T>, options?: TaskOptions): TaskHandle<Awaited<R>[]>
  map<T, I, R>(
    id: string,
    over: Ref<readonly T[]>,
    spec: { inputs: I; run: TaskFn<P, Resolved<I>, R, T> },
    options?: TaskOptions,
  ): TaskHandle<Awaited<R>[]>
  map<T, R>(id: string, over: Ref<readonly T[]>, spec: FunctionTaskSpec<unknown, R, T>, options?: TaskOptions): TaskHandle<Awaited<R>[]>
}
