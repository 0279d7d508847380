import type { Executor, OrphanAttempt } from '../executors/executor.ts'
import type { Store } from '../store/connect.ts'
import { FailureClass } from '../model/failure.ts'
import { recordOutcomes } from '../store/attempt-outcome.ts'
import { findOrphans, takeOver, type OrphanRow } from '../store/orphans.ts'
import { holdSchedulerLock } from '../store/scheduler-lock.ts'
import { onExecutorEvent } from './attempt-events.ts'
import { heartbeat } from '../store/attempt-heartbeat.ts'
import { loadSpecs } from './launch.ts'
import { flagMissingExecutors } from '../store/missing-executors.ts'
import { flagMissingPools } from '../store/missing-pools.ts'
import { reapLostAttempts } from '../store/reap-lost.ts'
import { taskInstancesByIds } from '../store/task-instance.repo.ts'
import { executorFor, groupByExecutor } from './executors.ts'
import type { Fence } from './fence.ts'
import { flushResults } from './record-results.ts'
import { reportRecorded } from './report-recorded.ts'
import type { SchedulerState } from './state.ts'

/** The schedulers alive in this process, per embedded store (a PGlite store has no other process to ask). */
const embeddedLive = new WeakMap<Store, Set<string>>()

/**
 * Announces that this scheduler is alive for as long as it runs: on Postgres a session advisory lock other
 * schedulers can see; on PGlite an entry in this process. Returns the function that withdraws it.
 */
export async function announce(s: SchedulerState, onLost: () => void): Promise<() => Promise<void>> {
  if (s.store.kind === 'postgres' && s.store.url) {
    const lock = await holdSchedulerLock(s.store.url, s.id, onLost)
    return () => lock.release()
  }
  const live = embeddedLive.get(s.store) ?? new Set<string>()
  embeddedLive.set(s.store, live.add(s.id))
  return async () => void live.delete(s.id)
}

/** When due: heartbeats (which re-arm the fence), then the reaper. Returns how many attempts the reaper touched. */
export async function livenessStep(
  s: SchedulerState,
  fence: Fence,
  now: Date,
  due: (what: string, everyMs: number, now: number) => boolean,
): Promise<number> {
  if (due('heartbeat', s.config.heartbeatIntervalMs, now.getTime())) {
    s.hints.writeStarted = true
    await heartbeatAttempts(s)
    fence.ok()
  }
  // Every second at most: dead schedulers and runners are seen from their locks within about that.
  return due('reap', Math.min(1000, s.config.heartbeatIntervalMs), now.getTime()) ? reapAndAdopt(s, now) : 0
}

/** A clean stop: what runs in this process is cancelled and recorded, so nothing waits for a reaper. */
export async function stopCleanly(s: SchedulerState): Promise<void> {
  await Promise.all([...s.executors.values()].map((e) => e.close()))
  await flushResults(s).catch(() => {})
  await reportRecorded(s).catch(() => {})
  if (s.logs.size > 0) await heartbeatAttempts(s).catch(() => {})
}

/** Heartbeats the attempts this scheduler watches and appends the log output it holds for them. */
export async function heartbeatAttempts(s: SchedulerState): Promise<void> {
  const logs = s.logs
  s.logs = new Map()
  try {
    await heartbeat(
      s.store.db,
      s.id,
      [...s.attempts.values()].map((e) => e.spec.tiId),
      logs,
    )
  } catch (err) {
    for (const [k, v] of logs) s.logs.set(k, v + (s.logs.get(k) ?? ''))
    throw err
  }
}

/**
 * Finds attempts whose scheduler died (its liveness lock is gone): those whose runner still runs are offered to
 * the executor they name (orphans of an executor this scheduler does not run are left to one that does), which
 * adopts what it can watch (this scheduler then records their end); the rest are ended at once, requeued if
 * their runner never began, failed as infrastructure if it did. Then the heartbeat timeout,
 * for partitions that no lock reveals. Returns how many attempts it touched.
 */
export async function reapAndAdopt(s: SchedulerState, now: Date): Promise<number> {
  const db = s.store.db
  const embedded = s.store.kind === 'pglite'
  const found = await findOrphans(db, embedded ? [...(embeddedLive.get(s.store) ?? [s.id])] : [s.id], embedded)
  // Its Job may still run: ending it here would start a second copy. The heartbeat timeout ends it if nobody adopts it.
  const orphans = found.filter((o) => executorFor(s, o.executor))
  // Watched before they are offered: an executor may report at once the end of an attempt it adopts (a Job that
  // finished while no scheduler ran), and an event for an attempt nobody watches is dropped.
  await watch(s, orphans)
  const adoptedKeys = new Set(await adoptOrphans(s, orphans))
  const adopted = orphans.filter((o) => adoptedKeys.has(keyOf(o)))
  const dead = orphans.filter((o) => !adoptedKeys.has(keyOf(o)))
  for (const o of dead) s.attempts.delete(keyOf(o))
  await takeOver(s.store.db, adopted, s.id)
  for (const r of await endOrphans(s, dead)) s.dirty.add(r)
  const lost = await loseUnknown(s)
  await flagMissingPools(db)
  await reportMissingExecutors(s)
  const reaped = await reapLostAttempts(db, s.config.heartbeatTimeoutMs, now)
  for (const r of reaped) s.dirty.add(r)
  return orphans.length + lost + reaped.size
}

/** Attempts this scheduler watches that its executor no longer knows of (lost without an event): infrastructure failures. */
async function loseUnknown(s: SchedulerState): Promise<number> {
  if (s.attempts.size === 0) return 0
  const byExecutor = new Map<Executor, string[]>()
  for (const [key, entry] of s.attempts) {
    const keys = byExecutor.get(entry.executor)
    if (keys) keys.push(key)
    else byExecutor.set(entry.executor, [key])
  }
  let n = 0
  for (const [executor, keys] of byExecutor) {
    for (const [key, st] of await executor.status(keys)) {
      if (st !== 'unknown' || !s.attempts.has(key)) continue
      onExecutorEvent(s, { type: 'finished', key, outcome: { kind: 'lost', reason: `the ${executor.name} executor lost the attempt` } }, () => {})
      n++
    }
  }
  return n
}

/** Offers each executor the orphans that name it; returns the keys adopted. */
async function adoptOrphans(s: SchedulerState, orphans: OrphanRow[]): Promise<string[]> {
  const keys: string[] = []
  for (const [executor, mine] of groupByExecutor(s, orphans, (o) => o.executor)) keys.push(...(await executor.adopt(mine.map(orphanAttempt))))
  return keys
}

/** Says, once per task, which instances wait on an executor this scheduler does not run (store/missing-executors.ts). */
async function reportMissingExecutors(s: SchedulerState): Promise<void> {
  for (const w of await flagMissingExecutors(s.store.db, s.id, [...s.executors.keys()])) {
    const key = `${w.dag_id}|${w.task_id}|${w.executor}`
    if (s.missingExecutors.has(key)) continue
    s.missingExecutors.add(key)
    s.emit({ type: 'scheduler:error', error: new Error(w.reason) })
  }
}

/**
 * Records the end of orphans nobody runs, under their attempts' guard: one whose runner never began is requeued
 * spending nothing (nothing ran); one that began is an infrastructure failure, which spends the instance's
 * infrastructure budget and never the task's retries. Returns the runs that changed.
 */
async function endOrphans(s: SchedulerState, dead: OrphanRow[]): Promise<Set<number>> {
  if (dead.length === 0) return new Set()
  const rows = await taskInstancesByIds(
    s.store.db,
    dead.map((o) => o.tiId),
  )
  const byTi = new Map(dead.map((o) => [o.tiId, o]))
  const specs = await loadSpecs(
    s,
    rows.map((r) => ({ ...r, try_number: byTi.get(r.id)!.tryNumber, attempt_id: byTi.get(r.id)!.attemptId })),
  )
  const items = specs.map((spec) => {
    const o = byTi.get(spec.tiId)!
    const reason = reasonFor(o)
    return {
      spec,
      outcome: {
        ok: false as const,
        error: reason,
        reason,
        nonRetryable: false,
        failureClass: FailureClass.Infrastructure,
        requeue: o.attemptState === 'queued',
      },
    }
  })
  return (await recordOutcomes(s.store.db, items, s.config.xcomMaxBytes)).runs
}

function reasonFor(o: OrphanRow): string {
  if (o.attemptState === 'queued') return `scheduler ${o.claimedBy} died before the attempt began`
  return o.runnerAlive
    ? `scheduler ${o.claimedBy} died and its executor could not adopt the attempt`
    : `the attempt's runner died with scheduler ${o.claimedBy}`
}

const keyOf = (o: OrphanRow) => `${o.tiId}:${o.tryNumber}`

function orphanAttempt(o: OrphanRow): OrphanAttempt {
  return { key: keyOf(o), attemptId: o.attemptId, tiId: o.tiId, tryNumber: o.tryNumber, externalId: o.externalId, runnerAlive: o.runnerAlive }
}

/** Watches orphans as if this scheduler had launched them (those their executor does not adopt are dropped again). */
async function watch(s: SchedulerState, orphans: OrphanRow[]): Promise<void> {
  if (orphans.length === 0) return
  const rows = await taskInstancesByIds(
    s.store.db,
    orphans.map((o) => o.tiId),
  )
  const attemptOf = new Map(orphans.map((o) => [o.tiId, o.attemptId]))
  for (const spec of await loadSpecs(
    s,
    rows.map((r) => ({ ...r, attempt_id: attemptOf.get(r.id)! })),
  ))
    s.attempts.set(spec.key, { spec, executor: executorFor(s, spec.executor)!, started: Date.now(), runPk: spec.runPk })
}
