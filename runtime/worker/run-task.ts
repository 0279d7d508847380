import { mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { checkCodeDigest, compareCodeDigest } from '../dag/check-code-digest.ts'
import { isDagDefinition } from '../dag/define-dag.ts'
import type { TaskContext } from '../dag/types.ts'
import { TaskFailure, coerceError } from '../errors.ts'
import { insideFolder, safeSegment } from '../paths.ts'
import type { Outlet } from '../store/attempt-outlets.ts'
import type { AttemptSpec } from '../store/attempt-spec.ts'

/** What a task attempt produced, from inside the process or worker thread that ran it. */
export type TaskOutcome = { ok: true; result: unknown; outlets?: Outlet[] } | { ok: false; error: string; nonRetryable: boolean; reason: string }

/** A spec with its DAG file resolved to a path on this machine. */
export type RunnableSpec = AttemptSpec & { file: string }

/** Per module URL: the module, and the code digest of the files it was loaded from. */
const moduleCache = new Map<string, { mod: Record<string, unknown>; ran: string }>()

export interface TaskHooks {
  log(line: string): void
  progress(done: number, total: number | null, unit: string): void
  signal: AbortSignal
  /**
   * Stores heartbeat details durably (the task runner). Without it (a worker thread run by the scheduler itself)
   * details are checked to be JSON and not stored, so the next try's previousDetails stays null.
   */
  heartbeat?(details: unknown): Promise<void>
  /** The folder scratch folders are made in (the runner's: FORGE_HOME/scratch); default the system's temporary folder. */
  scratchRoot?: string
  /** Told the code digest the attempt runs (runtime/dag/check-code-digest.ts), for its attempt row. */
  codeDigest?(ran: string): void
  /** Imports the DAG file whose files have digest `ran` (a prebuilt runner's compiled module); default import(). */
  importDag?(file: string, ran: string): Promise<Record<string, unknown>>
}

/**
 * Imports the DAG file (the versionTag query keeps a worker thread from running an older copy), finds the task's
 * function and calls it with its context. Runs inside the isolation boundary, never in the scheduler.
 */
export async function runFunctionTask(spec: RunnableSpec, hooks: TaskHooks): Promise<TaskOutcome> {
  const outlets: Outlet[] = []
  let scratch: string | null = null
  try {
    const url = `${pathToFileURL(spec.file).href}?v=${spec.versionTag}`
    // import() of a loaded module still runs the loader's resolve hooks (a round trip to tsx's hooks thread), so a
    // worker thread that runs thousands of attempts keeps its own cache, keyed by DAG version. The digest is taken
    // before the import; a thread whose files changed since is replaced by its pool (thread-pool.ts).
    let loaded = moduleCache.get(url)
    const code = loaded ? compareCodeDigest(loaded.ran, spec.codeDigest ?? null) : checkCodeDigest(spec.file, spec.codeDigest ?? null)
    if (code.message) hooks.log(`${new Date().toISOString()} ${code.message}`)
    hooks.codeDigest?.(code.ran)
    if (!loaded) {
      const mod = hooks.importDag ? await hooks.importDag(spec.file, code.ran) : ((await import(url)) as Record<string, unknown>)
      loaded = { mod, ran: code.ran }
      moduleCache.set(url, loaded)
    }
    const mod = loaded.mod
    // The default export is the DAG the processor registered; named exports are searched too so one module
    // may hold several DAGs (test fixtures, generated DAG families).
    const def = [mod.default, ...Object.values(mod)].find((d) => isDagDefinition(d) && d.id === spec.dagId)
    if (!isDagDefinition(def)) return { ok: false, error: `${spec.file} no longer exports a DAG`, nonRetryable: true, reason: 'dag file changed' }
    const task = def.tasks.get(spec.taskId)
    if (!task?.run)
      return { ok: false, error: `task "${spec.taskId}" is not a function task in ${spec.file}`, nonRetryable: true, reason: 'dag file changed' }
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
      idempotencyKey: idempotencyKey(spec),
      // Made on first use: most tasks never touch it.
      get scratchDir() {
        scratch ??= makeScratchDir(hooks.scratchRoot ?? join(tmpdir(), 'forge-scratch'), spec)
        return scratch
      },
      previousDetails: spec.previousDetails,
      heartbeat: async (details) => {
        if (details !== undefined) JSON.stringify(details) // refuse what cannot be stored, in the task's own call
        await hooks.heartbeat?.(details)
      },
      outlet: (uri, extra) => {
        if (typeof uri !== 'string' || uri === '')
          throw new TaskFailure(`outlet uri must be a non-empty string, got ${JSON.stringify(uri)}`, 'OutletError', true)
        outlets.push(extra === undefined ? { uri } : { uri, extra })
      },
    }
    const result = await (task.run as (c: typeof ctx) => unknown)(ctx)
    return { ok: true, result: result === undefined ? null : result, ...(outlets.length ? { outlets } : {}) }
  } catch (thrown) {
    const err = coerceError(thrown)
    // Duck-typed too: an operator bundling its own copy of the runtime still signals non-retryable failures.
    const nonRetryable =
      (err instanceof TaskFailure || (err as { code?: string }).code === 'task_failure') && (err as TaskFailure).nonRetryable === true
    return { ok: false, error: err.stack ?? err.message, nonRetryable, reason: `${err.name}: ${err.message}`.slice(0, 500) }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  }
}

/** `${dagId}/${runId}/${taskId}/${mapIndex}`: the same for every try of one task instance. */
export function idempotencyKey(spec: Pick<AttemptSpec, 'dagId' | 'runId' | 'taskId' | 'mapIndex'>): string {
  return `${spec.dagId}/${spec.runId}/${spec.taskId}/${spec.mapIndex}`
}

/** An empty folder for this attempt, `ROOT/<dag>/<run>/<task>.<map index>.<try>`, each name checked to stay inside. */
function makeScratchDir(root: string, spec: AttemptSpec): string {
  const dir = insideFolder(
    root,
    safeSegment(spec.dagId, 'dag id'),
    safeSegment(spec.runId, 'run id'),
    safeSegment(`${spec.taskId}.${spec.mapIndex}.${spec.tryNumber}`, 'task id'),
  )
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  return dir
}
