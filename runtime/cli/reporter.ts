import pino from 'pino'
import { formatMs } from '../duration.ts'
import type { SchedulerEvent } from '../scheduler/scheduler.ts'

/**
 * Turns scheduler events into output for people or machines: on a TTY, a line per attempt and one live progress
 * line (frames, bytes, tasks); otherwise pino JSON logs carrying dag, run, task and try on every line.
 */
export function makeReporter(opts: { tty?: boolean; level?: string } = {}): (e: SchedulerEvent) => void {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY)
  const log = pino({ level: opts.level ?? 'info', base: undefined }, pino.destination({ dest: 2, sync: true }))
  const lastProgress = new Map<string, number>()
  // On a TTY one live line shows every attempt that reports progress, e.g. "simulate[0] 12/40 frames · simulate[1] 3/40 frames".
  const live = new Map<string, string>()
  const drawLive = () => {
    process.stderr.write(`\r\x1b[2K${[...live.values()].join(' · ').slice(0, (process.stderr.columns || 120) - 1)}`)
    liveLine = live.size > 0
  }
  let liveLine = false
  const clearLive = () => {
    if (liveLine) process.stderr.write('\r\x1b[2K')
    liveLine = false
  }
  return (e) => {
    if (e.type === 'attempt:progress') {
      const s = e.spec
      const name = `${s.taskId}${s.mapIndex >= 0 ? `[${s.mapIndex}]` : ''}`
      const pct = e.total ? ` (${Math.floor((100 * e.done) / e.total)}%)` : ''
      if (tty) {
        live.set(s.key, `${name} ${e.done}${e.total ? `/${e.total}` : ''} ${e.unit}${pct}`)
        drawLive()
      } else {
        const now = Date.now()
        if (now - (lastProgress.get(s.key) ?? 0) < 2000 && e.done !== e.total) return
        lastProgress.set(s.key, now)
        log.info(
          { dag: s.dagId, run: s.runId, task: s.taskId, map_index: s.mapIndex, try: s.tryNumber, done: e.done, total: e.total, unit: e.unit },
          'progress',
        )
      }
      return
    }
    if (e.type === 'attempt:finished') {
      const s = e.spec
      const name = `${s.dagId}.${s.taskId}${s.mapIndex >= 0 ? `[${s.mapIndex}]` : ''}`
      if (tty) {
        clearLive()
        live.delete(s.key)
        const mark = e.ok ? '✓' : '✗'
        process.stderr.write(
          `${mark} ${name}, ${formatMs(e.durationMs)}, attempt ${s.tryNumber} of ${s.maxTries}${e.reason ? ` — ${e.reason}` : ''}\n`,
        )
        if (live.size) drawLive()
      } else {
        const fields = {
          dag: s.dagId,
          run: s.runId,
          task: s.taskId,
          map_index: s.mapIndex,
          try: s.tryNumber,
          max_tries: s.maxTries,
          duration_ms: e.durationMs,
        }
        if (e.ok) log.info(fields, 'attempt succeeded')
        else log.warn({ ...fields, reason: e.reason }, 'attempt failed')
      }
      return
    }
    if (e.type === 'scheduler:error') {
      clearLive()
      log.error({ err: e.error }, 'scheduler pass failed; retrying in 1s')
      return
    }
    if (tty) {
      clearLive()
      process.stderr.write(`run ${e.dagId}/${e.runId}: ${e.state}\n`)
    } else log.info({ dag: e.dagId, run: e.runId, state: e.state }, 'run finished')
  }
}
