import { pathToFileURL } from 'node:url'
import { isDagDefinition } from '../dag/define-dag.ts'
import type { TaskContext } from '../dag/types.ts'
import { TaskFailure, coerceError } from '../errors.ts'
import type { AttemptSpec } from './executor.ts'

/** What a task attempt produced, from inside the child process or worker thread that ran it. */
export type TaskOutcome =
  | { ok: true; result: unknown }
  | { ok: false; error: string; nonRetryable: boolean; reason: string }

const moduleCache = new Map<string, Record<string, unknown>>()

export interface TaskHooks {
  log(line: string): void
  progress(done: number, total: number | null, unit: string): void
  signal: AbortSignal
}

/**
 * Imports the DAG file (the versionTag query keeps a worker thread from running an older copy), finds the task's
 * function and calls it with its context. Runs inside the isolation boundary, never in the scheduler.
 */
export async function runFunctionTask(spec: AttemptSpec, hooks: TaskHooks): Promise<TaskOutcome> {
  try {
    const url = `${pathToFileURL(spec.file).href}?v=${spec.versionTag}`
    // import() of a loaded module still runs the loader's resolve hooks (a round trip to tsx's hooks thread), so a
    // worker thread that runs thousands of attempts keeps its own cache, keyed by DAG version.
    let mod = moduleCache.get(url)
    if (!mod) {
      mod = (await import(url)) as Record<string, unknown>
      moduleCache.set(url, mod)
    }
    // The default export is the DAG the processor registered; named exports are searched too so one module
    // may hold several DAGs (test fixtures, generated DAG families).
    const def = [mod.default, ...Object.values(mod)].find((d) => isDagDefinition(d) && d.id === spec.dagId)
    if (!isDagDefinition(def)) return { ok: false, error: `${spec.file} no longer exports a DAG`, nonRetryable: true, reason: 'dag file changed' }
    const task = def.tasks.get(spec.taskId)
    if (!task?.run) return { ok: false, error: `task "${spec.taskId}" is not a function task in ${spec.file}`, nonRetryable: true, reason: 'dag file changed' }
    const ctx: TaskContext<unknown, unknown, unknown> = {
      params: spec.params,
      inputs: spec.inputs,
      item: spec.item,
      dagId: spec.dagId,
      runId: spec.runId,
      taskId: spec.taskId,
      mapIndex: spec.mapIndex,
      tryNumber: spec.tryNumber,
      maxTries: spec.maxTries,
      logicalDate: new Date(spec.logicalDate),
      dataIntervalStart: new Date(spec.dataIntervalStart),
      dataIntervalEnd: new Date(spec.dataIntervalEnd),
      signal: hooks.signal,
      log: (message, fields) => hooks.log(`${new Date().toISOString()} ${message}${fields ? ' ' + JSON.stringify(fields) : ''}`),
      progress: (done, total, unit) => hooks.progress(done, total, unit),
      triggeringEvents: (spec.triggeringEvents ?? []).map((e) => ({ ...e, timestamp: new Date(e.timestamp) })),
    }
    const result = await (task.run as (c: typeof ctx) => unknown)(ctx)
    return { ok: true, result: result === undefined ? null : result }
  } catch (thrown) {
    const err = coerceError(thrown)
    // Duck-typed too: an operator bundling its own copy of the runtime still signals non-retryable failures.
    const nonRetryable = (err instanceof TaskFailure || (err as { code?: string }).code === 'task_failure') && (err as TaskFailure).nonRetryable === true
    return { ok: false, error: err.stack ?? err.message, nonRetryable, reason: `${err.name}: ${err.message}`.slice(0, 500) }
  }
}
