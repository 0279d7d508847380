import { FailureClass } from '../model/failure.ts'
import { insideFolder } from '../paths.ts'
import { loadAttempts, type ClaimedRow } from '../store/attempt-load.ts'
import { queuedClaimedBy } from '../store/task-instance.repo.ts'
import type { AttemptSpec } from '../executors/executor.ts'
import { executorFor } from './executors.ts'
import type { SchedulerState } from './state.ts'

/**
 * Hands claimed instances to the executor each names (the default one when it names none), with their params and
 * resolved inputs (built by the one function that builds attempt specs). An attempt the executor refuses to start
 * stays queued under this scheduler, whose liveness lock says it is alive: it is failed as an infrastructure
 * failure right here.
 */
export async function launch(s: SchedulerState, claimed: ClaimedRow[]): Promise<void> {
  if (claimed.length === 0) return
  // Runs finished by other schedulers never reach forgetRun: bound the cache instead of tracking them.
  if (s.cache.results.size > 50_000 || s.cache.runs.size > 5_000) s.cache = { runs: new Map(), results: new Map() }
  for (const spec of await loadSpecs(s, claimed)) {
    const executor = executorFor(s, spec.executor)
    try {
      // Claims take only instances of this scheduler's executors; a successor handed a slot by a runner of
      // another version or scheduler might still name one it lacks.
      if (!executor) throw new Error(`this scheduler does not run the ${spec.executor} executor`)
      s.attempts.set(spec.key, { spec, executor, started: Date.now(), runPk: spec.runPk })
      await executor.launch(spec)
    } catch (err) {
      s.attempts.delete(spec.key)
      const message = err instanceof Error ? err.message : String(err)
      const reason = executor ? `the ${executor.name} executor could not start it: ${message}` : message
      s.finished.push({
        tiId: spec.tiId,
        tryNumber: spec.tryNumber,
        maxTries: spec.maxTries,
        runPk: spec.runPk,
        taskId: spec.taskId,
        mapIndex: spec.mapIndex,
        task: spec.task,
        ok: false,
        nonRetryable: false,
        failureClass: FailureClass.Infrastructure,
        infraFailures: spec.infraFailures,
        maxInfraRetries: spec.maxInfraRetries,
        reason,
        log: `[forge] ${reason}\n`,
      })
    }
  }
}

/**
 * Launches instances claimed for this scheduler that it does not watch: successors a runner's result handed its
 * slot to (the runner records its result itself, and claims the successor for the predecessor's scheduler).
 */
export async function launchUnwatched(s: SchedulerState): Promise<number> {
  s.hints.unwatched = false
  const rows = await queuedClaimedBy(s.store.db, s.id)
  const watched = new Set([...[...s.attempts.values()].map((a) => a.spec.tiId), ...s.finished.map((f) => f.tiId)])
  const todo = rows.filter((r) => !watched.has(r.id))
  await launch(s, todo)
  return todo.length
}

/** The specs of claimed (or adopted) instances, with their DAG file resolved against this scheduler's DAGs folder. */
export async function loadSpecs(s: SchedulerState, rows: ClaimedRow[]): Promise<AttemptSpec[]> {
  return (await loadAttempts(s.store.db, rows, s.cache)).map((spec) => ({ ...spec, file: insideFolder(s.config.dagsFolder, spec.fileloc) }))
}
