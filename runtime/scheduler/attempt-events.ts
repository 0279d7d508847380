import { FENCE_SUFFIX, SHUTDOWN_REASON, type ExecutorEvent } from '../executors/executor.ts'
import { FailureClass } from '../model/failure.ts'
import type { Outlet } from '../store/attempt-outlets.ts'
import type { Finished } from '../store/attempt-record.ts'
import type { SchedulerState, Tracked } from './state.ts'

/**
 * Takes in what the executor reports about the attempts this scheduler launched or adopted. Results wait in
 * `finished` for the next pass, which records them; "started" and log lines ride along with the next results or
 * heartbeat, so only an ending or new capacity wakes the loop.
 */
export function onExecutorEvent(s: SchedulerState, e: ExecutorEvent, wake: () => void): void {
  if (e.type === 'capacity') {
    // Without this pass, a scheduler whose first claim found no capacity would wait for the next poll.
    s.hints.claim = true
    wake()
    return
  }
  const entry = s.attempts.get(e.key)
  if (!entry) return
  const { spec } = entry
  if (e.type === 'log') s.logs.set(e.key, (s.logs.get(e.key) ?? '') + e.chunk)
  else if (e.type === 'started') s.started.push({ tiId: spec.tiId, tryNumber: spec.tryNumber, executorId: e.externalId })
  else if (e.type === 'progress') s.emit({ type: 'attempt:progress', spec, done: e.done, total: e.total, unit: e.unit })
  else {
    s.attempts.delete(e.key)
    const o = e.outcome
    if (o.kind === 'recorded') {
      // Its runner wrote the result: only the run's decision is left, and a slot is free.
      s.dirty.add(entry.runPk)
      s.hints.claim = s.hints.unwatched = true
      const durationMs = Date.now() - entry.started
      if (o.ok === undefined) s.recordedEnds.push({ spec, durationMs })
      else s.emit({ type: 'attempt:finished', spec, ok: o.ok, reason: o.ok ? null : (o.reason ?? null), durationMs })
    } else {
      const ok = o.kind === 'result' && o.ok
      const reason = o.kind === 'lost' ? o.reason : o.ok ? null : o.reason
      s.finished.push(
        finishedOf(
          s,
          entry,
          e.key,
          o.kind === 'lost'
            ? { ok: false, reason: o.reason, error: o.reason, infrastructure: true }
            : o.ok
              ? { ok: true, result: o.result, outlets: o.outlets }
              : { ok: false, reason: o.reason, error: o.error, nonRetryable: o.nonRetryable },
        ),
      )
      s.emit({ type: 'attempt:finished', spec, ok, reason, durationMs: Date.now() - entry.started })
    }
    wake()
  }
}

type Result =
  { ok: true; result: unknown; outlets?: Outlet[] } | { ok: false; reason: string; error: string; nonRetryable?: boolean; infrastructure?: boolean }

function finishedOf(s: SchedulerState, entry: Tracked, key: string, r: Result): Finished {
  const { spec } = entry
  const log = (s.logs.get(key) ?? '') + (r.ok ? '' : `\n[forge] attempt failed: ${r.reason}\n${r.error}\n`)
  s.logs.delete(key)
  return {
    tiId: spec.tiId,
    tryNumber: spec.tryNumber,
    maxTries: spec.maxTries,
    runPk: entry.runPk,
    taskId: spec.taskId,
    mapIndex: spec.mapIndex,
    task: spec.task,
    ok: r.ok,
    result: r.ok ? r.result : undefined,
    nonRetryable: r.ok ? false : (r.nonRetryable ?? false),
    // Cancelled because this scheduler is stopping: run it again later without spending a retry.
    requeue: !r.ok && s.stopping && r.reason === SHUTDOWN_REASON,
    failureClass: !r.ok && (r.infrastructure === true || r.reason.endsWith(FENCE_SUFFIX)) ? FailureClass.Infrastructure : FailureClass.Task,
    infraFailures: spec.infraFailures,
    maxInfraRetries: spec.maxInfraRetries,
    reason: r.ok ? null : r.reason,
    log,
    ...(r.ok && r.outlets?.length ? { outlets: { dagId: spec.dagId, runId: spec.runId, items: r.outlets } } : {}),
  }
}
