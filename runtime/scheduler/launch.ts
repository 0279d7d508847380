import { buildAttemptSpecs, type ClaimedRow } from './claim.ts'
import type { SchedulerState } from './state.ts'

/**
 * Hands claimed instances to the executor, with their params and resolved inputs (built by the one function that
 * builds attempt specs). An attempt the executor refuses to start stays queued under this scheduler, whose
 * liveness lock says it is alive: it is failed as an infrastructure failure right here.
 */
export async function launch(s: SchedulerState, claimed: ClaimedRow[]): Promise<void> {
  if (claimed.length === 0) return
  // Runs finished by other schedulers never reach forgetRun: bound the cache instead of tracking them.
  if (s.cache.results.size > 50_000 || s.cache.runs.size > 5_000) s.cache = { runs: new Map(), results: new Map() }
  const specs = await buildAttemptSpecs(s.store.db, claimed, s.config.dagsFolder, s.cache)
  const runOf = new Map(claimed.map((c) => [c.id, c.dag_run_id]))
  for (const spec of specs) {
    const entry = { spec, started: Date.now(), runPk: runOf.get(spec.tiId)! }
    s.attempts.set(spec.key, entry)
    try {
      await s.executor.launch(spec)
    } catch (err) {
      s.attempts.delete(spec.key)
      const reason = `the ${s.executor.name} executor could not start it: ${err instanceof Error ? err.message : String(err)}`
      s.finished.push({ tiId: spec.tiId, tryNumber: spec.tryNumber, maxTries: spec.maxTries, runPk: entry.runPk, taskId: spec.taskId, mapIndex: spec.mapIndex, task: spec.task, ok: false, nonRetryable: false, infrastructure: true, reason, log: `[forge] ${reason}\n` })
    }
  }
}
