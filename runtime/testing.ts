/**
 * Unit tests for operators without a scheduler or a database, in the manner of Temporal's MockActivityEnvironment:
 * the environment is the task context, and records what the operator did with it.
 *
 * ```ts
 * import { MockOperatorEnvironment } from 'adas-forge/testing'   // runtime/testing.ts inside the repository
 * const env = new MockOperatorEnvironment({ item: { scenario }, env: { CARLA_HOST: 'embedded' } })
 * env.on('heartbeat', () => env.abort('enough'))                 // cancel at the first heartbeat
 * await expect(env.run(carlaGenerate())).rejects.toThrow()
 * const retry = env.retry()                                       // try 2, previousDetails = the last heartbeat's
 * ```
 */
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isRef } from './dag/ref.ts'
import type { DatasetEventInfo, FunctionTaskSpec, TaskContext, TaskFn } from './dag/types.ts'
import { CONFIG_SOURCE, type ConfigSource } from './operator.ts'

export interface MockOperatorOptions {
  params?: unknown
  inputs?: unknown
  /** The mapped element; giving one makes the task mapped (`mapIndex` 0 unless set). */
  item?: unknown
  mapIndex?: number
  dagId?: string
  runId?: string
  taskId?: string
  tryNumber?: number
  maxTries?: number
  logicalDate?: Date
  /** What the previous try passed to heartbeat() (default null: a first try). */
  previousDetails?: unknown
  /** The dataset events that started the run (a dataset-scheduled DAG's), as `ctx.triggeringEvents`. */
  triggeringEvents?: DatasetEventInfo[]
  /** Environment variables for the operator's config slice, read and validated as in a real attempt. */
  env?: Record<string, string | undefined>
  /** Or the config slice itself, used as given. Neither: an empty environment (the slice's defaults). */
  config?: unknown
}

export interface MockLogLine {
  message: string
  fields?: Record<string, unknown>
}

/** Events: 'heartbeat' (details), 'log' (MockLogLine), 'progress' ({done,total,unit}), 'outlet' ({uri,extra}). */
export class MockOperatorEnvironment extends EventEmitter {
  /** The details of each heartbeat, in order, as JSON would store them (undefined for a bare heartbeat). */
  readonly heartbeats: unknown[] = []
  readonly logs: MockLogLine[] = []
  readonly progress: Array<{ done: number; total: number | null; unit: string }> = []
  readonly outlets: Array<{ uri: string; extra?: Record<string, unknown> }> = []
  /** An empty folder made for this environment; `cleanup()` removes it. */
  readonly scratchDir: string
  readonly context: TaskContext<unknown, unknown, unknown>
  readonly #abort = new AbortController()

  constructor(readonly options: MockOperatorOptions = {}) {
    super()
    this.scratchDir = mkdtempSync(join(tmpdir(), 'forge-mock-scratch-'))
    const o = options
    const mapIndex = o.mapIndex ?? ('item' in o ? 0 : -1)
    const ids = { dagId: o.dagId ?? 'test_dag', runId: o.runId ?? 'manual__test', taskId: o.taskId ?? 'test_task' }
    const date = o.logicalDate ?? new Date('2026-01-01T00:00:00Z')
    const source: ConfigSource = 'config' in o ? { config: o.config } : { env: o.env ?? {} }
    const context: TaskContext<unknown, unknown, unknown> & { [CONFIG_SOURCE]: ConfigSource } = {
      params: o.params ?? {},
      inputs: o.inputs ?? {},
      item: o.item,
      ...ids,
      mapIndex,
      tryNumber: o.tryNumber ?? 1,
      maxTries: o.maxTries ?? Math.max(o.tryNumber ?? 1, 1),
      logicalDate: date,
      dataIntervalStart: date,
      dataIntervalEnd: date,
      signal: this.#abort.signal,
      log: (message, fields) => this.#record('log', this.logs, { message, ...(fields ? { fields } : {}) }),
      progress: (done, total, unit) => this.#record('progress', this.progress, { done, total, unit }),
      idempotencyKey: `${ids.dagId}/${ids.runId}/${ids.taskId}/${mapIndex}`,
      scratchDir: this.scratchDir,
      previousDetails: o.previousDetails ?? null,
      triggeringEvents: o.triggeringEvents ?? [],
      heartbeat: async (details) => {
        // Stored as jsonb by the runner: what does not survive JSON does not reach the next try either.
        this.#record('heartbeat', this.heartbeats, details === undefined ? undefined : JSON.parse(JSON.stringify(details)))
      },
      outlet: (uri, extra) => this.#record('outlet', this.outlets, { uri, ...(extra ? { extra } : {}) }),
      [CONFIG_SOURCE]: source,
    }
    this.context = context
  }

  /**
   * Runs a task spec (what an operator factory returns) or a plain task function with this context. A spec's own
   * inputs are used unless `inputs` was given; inputs holding refs to upstream tasks must be given resolved.
   */
  async run<R>(task: FunctionTaskSpec<any, R, any> | TaskFn<any, any, R, any>): Promise<Awaited<R>> {
    let ctx = this.context
    if (typeof task !== 'function' && !('inputs' in this.options)) {
      if (holdsRef(task.inputs))
        throw new Error("the task's inputs hold refs to upstream outputs: give their resolved values as MockOperatorOptions.inputs")
      ctx = { ...ctx, inputs: task.inputs }
    }
    const fn = typeof task === 'function' ? task : task.run
    return (await (fn as (ctx: TaskContext) => R)(ctx)) as Awaited<R>
  }

  /** Aborts the signal, as a timeout or a cancellation would. */
  abort(reason: unknown = new Error('aborted by the test')): void {
    this.#abort.abort(reason)
  }

  /** The details of the last heartbeat that carried some, or null. */
  get lastDetails(): unknown {
    for (let i = this.heartbeats.length - 1; i >= 0; i--) if (this.heartbeats[i] !== undefined) return this.heartbeats[i]
    return null
  }

  /** The next try of the same task instance: same options, tryNumber + 1, previousDetails from this try's heartbeats. */
  retry(overrides: MockOperatorOptions = {}): MockOperatorEnvironment {
    const tryNumber = (this.options.tryNumber ?? 1) + 1
    return new MockOperatorEnvironment({
      ...this.options,
      tryNumber,
      maxTries: Math.max(this.options.maxTries ?? 1, tryNumber),
      previousDetails: this.lastDetails,
      ...overrides,
    })
  }

  /** Removes the scratch folder. */
  cleanup(): void {
    rmSync(this.scratchDir, { recursive: true, force: true })
  }

  #record<T>(event: string, list: T[], value: T): void {
    list.push(value)
    this.emit(event, value)
  }
}

function holdsRef(value: unknown): boolean {
  if (isRef(value)) return true
  if (Array.isArray(value)) return value.some(holdsRef)
  return typeof value === 'object' && value !== null && !(value instanceof Date) && Object.values(value).some(holdsRef)
}
