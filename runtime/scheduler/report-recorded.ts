import { attemptEnds } from '../store/attempt-ends.ts'
import type { SchedulerState } from './state.ts'

/**
 * Reports the attempts whose runners recorded their own results when the executor knows only that a result was
 * recorded, not which (a Job that succeeded): the store says whether it was a success, so a failed attempt is
 * never reported as one.
 */
export async function reportRecorded(s: SchedulerState): Promise<void> {
  if (s.recordedEnds.length === 0) return
  const ended = s.recordedEnds.splice(0)
  let rows: Awaited<ReturnType<typeof attemptEnds>>
  try {
    rows = await attemptEnds(
      s.store.db,
      ended.map((e) => ({ tiId: e.spec.tiId, tryNumber: e.spec.tryNumber })),
    )
  } catch (err) {
    // Reported at the next pass instead.
    s.recordedEnds.unshift(...ended)
    throw err
  }
  const byKey = new Map(rows.map((r) => [`${r.tiId}:${r.tryNumber}`, r]))
  for (const { spec, durationMs } of ended) {
    const row = byKey.get(`${spec.tiId}:${spec.tryNumber}`)
    const ok = row?.state === 'success'
    s.emit({ type: 'attempt:finished', spec, ok, reason: ok ? null : (row?.reason ?? 'its runner recorded no attempt'), durationMs })
  }
}
