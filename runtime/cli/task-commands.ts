import { hostname } from 'node:os'
import { loadConfig, scrubProcessEnv } from '../config.ts'
import { ConfigError } from '../errors.ts'
import { FailureClass } from '../model/failure.ts'
import type { DagImporter } from '../prebuilt/import-dag.ts'
import type { AttemptReporter } from '../worker/attempt-reporter.ts'
import { DirectAttemptReporter } from '../worker/direct-reporter.ts'
import { RelayAttemptReporter } from '../worker/relay-reporter.ts'
import { runAttempt, type CancelReason } from '../worker/run-attempt.ts'

/** What the launching executor may send a runner over IPC. */
type ParentMessage = { type: 'cancel'; reason: string; failureClass?: FailureClass; requeue?: boolean }

/**
 * `forge task run --attempt ID`: the task runner as a process of its own (what every executor launches). It
 * reads its configuration, then removes from its environment everything task code may not see (the database URL
 * above all) before any user code is imported, runs the attempt and records it. Exit 0 once the attempt is
 * recorded, whatever the task's outcome; 2 with one line for an attempt that is unknown, finished or taken; 3
 * when it ran but its record was refused (given up on meanwhile).
 */
export async function taskRun(attemptId: number, opts: { executorId?: string; importDag?: DagImporter }): Promise<number> {
  const config = loadConfig()
  scrubProcessEnv(config.taskEnvAllow)
  let reporter: AttemptReporter
  if (config.databaseUrl) reporter = new DirectAttemptReporter(config.databaseUrl, attemptId, config.xcomMaxBytes)
  else if (process.send) reporter = new RelayAttemptReporter(attemptId)
  else
    throw new ConfigError(
      "the embedded store is one process's alone: `forge task run` needs FORGE_DATABASE_URL, or to be started by the process that owns the store",
    )
  const abort = new AbortController()
  const cancel = (why: CancelReason) => abort.abort(why)
  const onTerm = () => cancel({ reason: 'runner stopped by SIGTERM (preempted, evicted or shut down)', failureClass: FailureClass.Infrastructure })
  const onMessage = (m: ParentMessage) => {
    if (m?.type === 'cancel') cancel({ reason: m.reason, failureClass: m.failureClass, requeue: m.requeue })
  }
  // Relayed reports die with the process that owns the store: nothing can be recorded any more, so stop.
  const onDisconnect = () => {
    cancel({ reason: 'the process that owns the store is gone', failureClass: FailureClass.Infrastructure })
    setTimeout(() => process.exit(70), 200).unref()
  }
  process.once('SIGTERM', onTerm)
  process.on('message', onMessage)
  if (reporter instanceof RelayAttemptReporter) process.once('disconnect', onDisconnect)
  try {
    const r = await runAttempt(reporter, {
      config,
      runnerId: `${hostname()}:${process.pid}`,
      executorId: opts.executorId ?? null,
      signal: abort.signal,
      captureOutput: true,
      // A launcher on the other end of the IPC channel (the local executor) kills the group if this process dies.
      onProcessGroup: process.send ? (pgid) => void process.send?.({ type: 'process-group', pgid }, () => {}) : undefined,
      importDag: opts.importDag,
    })
    // A launcher on the IPC channel reports the attempt's end without reading it back from the store.
    if (r.recorded && process.send) {
      const told = { type: 'recorded', ok: r.outcome.ok, reason: r.outcome.ok ? null : r.outcome.reason }
      await new Promise<void>((resolve) => process.send!(told, () => resolve()))
    }
    if (!r.recorded) {
      console.error(
        `forge: attempt ${attemptId} ran, but its outcome was not recorded: the attempt is no longer current (given up on by its executor or the reaper)`,
      )
      return 3
    }
    return 0
  } finally {
    process.off('SIGTERM', onTerm)
    process.off('message', onMessage)
    process.off('disconnect', onDisconnect)
    await reporter.close()
    exitSoon()
  }
}

/** Task code may leave timers or sockets open: exit once the output is flushed, whatever still holds the loop. */
function exitSoon(): void {
  const flushed = Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((r) => s.write('', () => r()))))
  void Promise.race([flushed, new Promise((r) => setTimeout(r, 2000).unref())]).then(() => {
    setTimeout(() => process.exit(), 50).unref()
    if (process.connected) process.disconnect?.()
  })
}
