/**
 * The operator SDK: what a reusable task (an operator, such as `carla.generate`) is written against. An operator
 * is a factory: calling it returns the task spec a DAG passes to `dag.task` or `dag.map`, and that spec carries the
 * operator's name into the serialized DAG, `forge tasks list` and the attempt's log.
 *
 * ```ts
 * import { defineOperator, z, type Ref } from '../../runtime/operator.ts'
 *
 * export const s3Sync = defineOperator({
 *   name: 's3.sync',
 *   config: { schema: z.object({ endpoint: z.string().url() }), env: { endpoint: 'AWS_ENDPOINT_URL_S3' } },
 *   details: z.object({ uploaded: z.array(z.string()) }),
 *   inputs: (o: { prefix: Ref<string> }) => o,
 *   run: async (ctx) => {
 *     const done = new Set(ctx.previousDetails?.uploaded)   // resume: what the last try confirmed
 *     ...
 *     await ctx.heartbeat({ uploaded: [...done] })
 *     ctx.outlet(`s3://bucket/${ctx.inputs.prefix}`)
 *   },
 * })
 * // in a DAG file: dag.task('upload', s3Sync({ prefix: sim.out.prefix }))
 * ```
 *
 * docs/operator-sdk.md describes the whole SDK: config slices, heartbeat details, outlets, the mock context
 * (`adas-forge/testing`) and plugin registration.
 */
import type { z } from 'zod'
import { loadOperatorConfig, taskEnvironment, type ConfigSlice } from './config.ts'
import type { Resolved } from './dag/ref.ts'
import type { FunctionTaskSpec, TaskContext, TaskLogger, TaskSettings } from './dag/types.ts'
import { DagDefinitionError, TaskFailure } from './errors.ts'
import { operatorLogger, type OperatorLogger } from './operator-logger.ts'

export { z } from 'zod'
export type { ConfigSlice } from './config.ts'
export type { Ref } from './dag/ref.ts'
export type { OperatorLogger } from './operator-logger.ts'
export { digestFile, listDirectory, readWithDigest, type DigestAlgorithm, type DirectoryEntry, type FileDigest } from './file-digest.ts'
export { definePlugin, type ForgePlugin, type MainJob, type PluginContext } from './plugin.ts'

/** What an operator's `run` receives: the task's context, its config slice, a child logger and typed details. */
export interface OperatorContext<C = unknown, D = unknown, I = unknown, Item = unknown, P = unknown> extends Omit<
  TaskContext<P, I, Item>,
  'log' | 'previousDetails' | 'heartbeat'
> {
  /** The operator's name, e.g. 'carla.generate'. */
  readonly operator: string
  /** The operator's configuration slice, validated; only the keys it declared. */
  readonly config: C
  /** Every line carries dag, run, task, map (mapped tasks) and try; `log.child({shard})` adds fields. */
  readonly log: OperatorLogger
  /**
   * What the previous try passed to `heartbeat()`, checked against the operator's `details` schema: null on a
   * first try, when nothing was recorded, or when the recorded details no longer fit the schema (that is logged).
   */
  readonly previousDetails: D | null
  /** Proves the attempt alive and stores `details` durably, so the next try can resume from them. */
  heartbeat(details?: D): Promise<void>
}

type Output<S> = S extends z.ZodType ? z.output<S> : undefined

export interface OperatorDefinition<S, DS, A extends unknown[], I, ItemIn, ItemOut, R> {
  /** Lowercase and dotted, family first: 'carla.generate', 's3.sync'. */
  name: string
  /** The operator's settings, read by runtime/config.ts from the named environment variables. */
  config?: ConfigSlice<S & z.ZodType>
  /** Schema of the heartbeat details; previous details that fail it are dropped (the code that wrote them may differ). */
  details?: DS & z.ZodType
  /** Task settings the operator suggests (pool, timeout, retries); the DAG's options for the task win. */
  settings?: TaskSettings
  /** Turns the factory's arguments into the task's inputs, which may hold refs (resolved before `run`). */
  inputs?: (...args: A) => I
  /** Checks or normalises a mapped task's element before `run` sees it as `ctx.item`. */
  item?: (element: ItemIn) => ItemOut
  run(ctx: OperatorContext<Output<S>, Output<DS>, Resolved<I>, ItemOut>): R | Promise<R>
}

/** A factory's result: the task spec, typed by the mapped element it accepts. */
export type OperatorFactory<A extends unknown[], R, ItemIn> = ((...args: A) => FunctionTaskSpec<unknown, Awaited<R>, ItemIn>) & {
  readonly operatorName: string
}

const NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+$/

/**
 * Test seam: a context carrying this key gets its config slice from it (`env` parsed like the process
 * environment, or `config` as given) instead of from the process environment. Used by runtime/testing.ts.
 */
export const CONFIG_SOURCE = Symbol.for('adas-forge.operator-config-source')
export type ConfigSource = { env: Record<string, string | undefined> } | { config: unknown }

/** Defines an operator; the result is its factory (`carlaGenerate()`, `s3Sync({...})`). */
export function defineOperator<
  S = undefined,
  DS = undefined,
  A extends unknown[] = [],
  I = Record<string, never>,
  ItemIn = unknown,
  ItemOut = ItemIn,
  R = unknown,
>(def: OperatorDefinition<S, DS, A, I, ItemIn, ItemOut, R>): OperatorFactory<A, R, ItemIn> {
  if (typeof def?.name !== 'string' || !NAME.test(def.name)) {
    throw new DagDefinitionError(
      `operator name ${JSON.stringify(def?.name)} is invalid: lowercase words joined by dots, family first ('carla.generate')`,
    )
  }
  if (typeof def.run !== 'function') throw new DagDefinitionError(`operator ${def.name}: run must be a function`)
  const configs = new Map<object, unknown>()
  const run = async (task: TaskContext<unknown, unknown, unknown>): Promise<Awaited<R>> => {
    const ctx = operatorContext(def, task, configs)
    return (await def.run(ctx)) as Awaited<R>
  }
  const factory = (...args: A): FunctionTaskSpec<unknown, Awaited<R>, ItemIn> => ({
    kind: 'function',
    operator: def.name,
    inputs: def.inputs ? def.inputs(...args) : {},
    run: run as FunctionTaskSpec<unknown, Awaited<R>, ItemIn>['run'],
    settings: def.settings,
  })
  return Object.assign(factory, { operatorName: def.name })
}

/** Reads an operator's slice outside a task (its CLI commands, say): the same variables and the same checks. */
export function readConfigSlice<S extends z.ZodType>(operator: string, slice: ConfigSlice<S>): z.output<S> {
  return loadOperatorConfig(operator, slice)
}

/**
 * The environment a process an operator starts (a trainer, a converter) inherits: what task code may see
 * (runtime/config.ts's allow list), never Forge's own settings.
 */
export function childProcessEnv(): Record<string, string> {
  return taskEnvironment()
}

type AnyDefinition = OperatorDefinition<any, any, any, any, any, any, any>

/** Builds the operator's context from the task's; the first log line of the attempt names the operator. */
function operatorContext(
  def: AnyDefinition,
  task: TaskContext<unknown, unknown, unknown>,
  configs: Map<object, unknown>,
): OperatorContext<any, any, any, any, any> {
  const log = operatorLogger(task.log, {
    dag: task.dagId,
    run: task.runId,
    task: task.taskId,
    ...(task.mapIndex >= 0 ? { map: task.mapIndex } : {}),
    try: task.tryNumber,
  })
  log(`operator ${def.name}: try ${task.tryNumber} of ${task.maxTries}`)
  const config = sliceOf(def, task, configs)
  const previousDetails = checkedDetails(def, task.previousDetails, log)
  const item = def.item && task.mapIndex >= 0 ? def.item(task.item) : task.item
  return {
    operator: def.name,
    config,
    log,
    previousDetails,
    params: task.params,
    inputs: task.inputs,
    item,
    dagId: task.dagId,
    runId: task.runId,
    taskId: task.taskId,
    mapIndex: task.mapIndex,
    tryNumber: task.tryNumber,
    maxTries: task.maxTries,
    logicalDate: task.logicalDate,
    dataIntervalStart: task.dataIntervalStart,
    dataIntervalEnd: task.dataIntervalEnd,
    signal: task.signal,
    idempotencyKey: task.idempotencyKey,
    triggeringEvents: task.triggeringEvents,
    // A getter: the task runner may create the folder on first use.
    get scratchDir() {
      return task.scratchDir
    },
    progress: (done, total, unit) => task.progress(done, total, unit),
    heartbeat: (details) => {
      // Details the next try would drop make its resume silently start over: refuse them where they are written.
      const bad = details !== undefined && def.details ? (def.details as z.ZodType).safeParse(details).error?.issues[0] : undefined
      if (bad)
        return Promise.reject(
          TaskFailure.nonRetryable(
            `operator ${def.name}: heartbeat details do not fit its details schema: ${bad.path.join('.') || '(root)'}: ${bad.message}`,
          ),
        )
      return task.heartbeat(details)
    },
    outlet: (uri, extra) => {
      if (typeof uri !== 'string' || !OUTLET_URI.test(uri))
        throw TaskFailure.nonRetryable(`operator ${def.name}: outlet ${JSON.stringify(uri)} is not a dataset URI (scheme://location)`)
      task.outlet(uri, extra)
    },
  }
}

const OUTLET_URI = /^[a-z][a-z0-9+.-]*:\/\/\S+$/

/** A bad slice fails the attempt without retries: the next try would read the same environment. */
function sliceOf(def: AnyDefinition, task: object, configs: Map<object, unknown>): unknown {
  if (!def.config) return undefined
  const source = (task as { [CONFIG_SOURCE]?: ConfigSource })[CONFIG_SOURCE]
  if (source && 'config' in source) return source.config
  const key = source ?? def.config
  if (!configs.has(key)) {
    try {
      configs.set(key, loadOperatorConfig(def.name, def.config, source?.env))
    } catch (err) {
      throw new TaskFailure((err as Error).message, 'ConfigError', true, { cause: err })
    }
  }
  return configs.get(key)
}

function checkedDetails(def: AnyDefinition, details: unknown, log: TaskLogger): unknown {
  if (details === null || details === undefined) return null
  if (!def.details) return details
  const parsed = (def.details as z.ZodType).safeParse(details)
  if (parsed.success) return parsed.data
  log("previous heartbeat details do not fit this operator's schema; starting over", { issue: parsed.error.issues[0]?.message })
  return null
}
