import type { ChildProcess } from 'node:child_process'
import { beginAttempt } from '../store/attempt-begin.ts'
import { heartbeatAttempt } from '../store/attempt-heartbeat.ts'
import { loadAttempt } from '../store/attempt-load.ts'
import { appendLogChunks, lastLogSeq, type LogChunk } from '../store/attempt-log.ts'
import { recordOutcome, type AttemptOutcome } from '../store/attempt-outcome.ts'
import type { AttemptSpec } from '../store/attempt-spec.ts'
import type { Db } from '../store/database.ts'
import type { RelayCall, RelayReply } from './attempt-reporter.ts'

/**
 * Attempts some runner of this process holds: the embedded store's stand-in for the advisory lock a Postgres
 * runner holds, so that two runners of one attempt cannot both run it.
 */
const held = new Map<number, ChildProcess>()

/**
 * Serves a runner child's reports (relay-reporter.ts) from the store this process owns, calling only store
 * functions, under the same guards as a direct reporter. The spec used to record is the one loaded here, never
 * one the child sends. The attempt is let go when the child exits. Returns a function that stops serving.
 */
export function serveAttemptReports(db: Db, child: ChildProcess, opts: { xcomMaxBytes: number }): () => void {
  const specs = new Map<number, AttemptSpec>()
  const handle = async (m: RelayCall): Promise<unknown> => {
    const id = m.attemptId
    const spec = () => {
      const s = specs.get(id)
      if (!s) throw new Error(`attempt ${id} was not loaded first`)
      return s
    }
    const key = () => ({ attemptId: id, tiId: spec().tiId, tryNumber: spec().tryNumber })
    switch (m.method) {
      case 'load': {
        const found = await loadAttempt(db, id)
        if (!found) return null
        specs.set(id, found.spec)
        return { ...found, logSeq: await lastLogSeq(db, id) }
      }
      case 'begin': {
        const holder = held.get(id)
        if (holder && holder !== child) return false
        const ok = await beginAttempt(db, key(), m.args[0] as string, (m.args[1] as string | null) ?? null)
        if (ok) held.set(id, child)
        return ok
      }
      case 'heartbeat': {
        const d = m.args[0] as { details: unknown } | null
        return heartbeatAttempt(db, key(), d ? d.details : undefined)
      }
      case 'log':
        await appendLogChunks(db, id, [m.args[0] as LogChunk])
        return null
      case 'record':
        return (await recordOutcome(db, spec(), m.args[0] as AttemptOutcome, opts.xcomMaxBytes)).recorded
    }
  }
  const onMessage = (raw: unknown) => {
    const m = raw as RelayCall
    if (m?.forge !== 'attempt-call') return
    void handle(m).then(
      (value) => reply({ forge: 'attempt-reply', id: m.id, ok: true, value: value ?? null }),
      (err: unknown) => reply({ forge: 'attempt-reply', id: m.id, ok: false, error: (err as Error)?.message ?? String(err) }),
    )
  }
  const reply = (r: RelayReply) => {
    if (child.connected) child.send(r)
  }
  const release = () => {
    for (const [id, holder] of held) if (holder === child) held.delete(id)
  }
  child.on('message', onMessage)
  child.once('exit', release)
  return () => {
    child.off('message', onMessage)
    release()
  }
}
