import type { ClaimedRow } from '../store/attempt-load.ts'
import { recordEventsIn, type Recorded } from '../store/attempt-record.ts'
import { planHandoffs, runsToDecide } from './handoff.ts'
import type { Db, Trx } from '../store/database.ts'
import type { SchedulerState } from './state.ts'

/**
 * Records the results the executor handed over, and the "running" of started attempts when they are due. As one
 * autocommit statement when there is nothing else to write: with a slot handoff that statement also claims the
 * successor, so a chain edge costs one round trip. Returns what it recorded and the successors it claimed, which
 * the caller launches; the runs the results touched are marked dirty.
 */
export async function recordResults(s: SchedulerState): Promise<{ count: number; freed: number; handed: ClaimedRow[] }> {
  const db = s.store.db
  const finished = s.finished.splice(0)
  // An attempt that already finished goes straight from queued to its end state: skip its "running" write.
  const done = new Set(finished.map((f) => f.tiId))
  const started = finished.length > 0 || s.hints.writeStarted ? s.started.splice(0).filter((x) => !done.has(x.tiId)) : []
  s.hints.writeStarted = false
  if (finished.length === 0 && started.length === 0) return { count: 0, freed: 0, handed: [] }
  const handoffs = await planHandoffs(db, s.cache, finished)
  const record = (ex: Db | Trx) => recordEventsIn(ex, s.id, started, finished, s.config.xcomMaxBytes, handoffs)
  // A success and the dataset events it produced commit together: apart, a failure between them would lose the events.
  const produces = finished.some((f) => f.ok && (f.outlets?.items.length || f.task.outlets?.length))
  let recorded: Recorded
  try {
    recorded = started.length > 0 || produces ? await db.transaction().execute(record) : await record(db)
  } catch (err) {
    // Nothing was recorded: keep the results for the next try.
    s.finished.unshift(...finished)
    s.started.unshift(...started)
    throw err
  }
  for (const f of finished)
    if (f.ok && f.mapIndex === -1 && recorded.succeeded.has(f.tiId)) s.cache.results.set(`${f.runPk}|${f.taskId}`, f.result ?? null)
  const handedFrom = new Set(recorded.handed.map((h) => h.from_id))
  for (const r of await runsToDecide(db, s.cache, finished, recorded.runs, handedFrom)) s.dirty.add(r)
  // A handed-off slot is not a freed one: only other results make room for new claims.
  return { count: started.length + finished.length, freed: finished.length - recorded.handed.length, handed: recorded.handed }
}

/** Writes what is left (a clean stop): results and "running" marks, in one transaction. */
export async function flushResults(s: SchedulerState): Promise<void> {
  const started = s.started.splice(0)
  const finished = s.finished.splice(0)
  if (started.length === 0 && finished.length === 0) return
  await s.store.db.transaction().execute((trx) => recordEventsIn(trx, s.id, started, finished, s.config.xcomMaxBytes))
}
