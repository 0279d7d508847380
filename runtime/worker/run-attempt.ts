import { join } from 'node:path'
import type { ForgeConfig } from '../config.ts'
import { formatMs } from '../duration.ts'
import { ForgeError, coerceError } from '../errors.ts'
import { runShellTask } from './shell-task.ts'
import { FailureClass } from '../model/failure.ts'
import { insideFolder } from '../paths.ts'
import type { AttemptOutcome } from '../store/attempt-outcome.ts'
import type { AttemptSpec } from '../store/attempt-spec.ts'
import type { AttemptReporter } from './attempt-reporter.ts'
import { LogStream } from './log-stream.ts'
import type { DagImporter } from '../prebuilt/import-dag.ts'
import { runFunctionTask, type TaskHooks, type TaskOutcome } from './run-task.ts'

/** How long a task gets to stop after its signal is aborted (cancel, timeout) before the runner records it anyway. */
export const RUNNER_CANCEL_GRACE_MS = 5000

/** Why an attempt was not run: unknown, finished, or taken by another runner. The CLI prints it as one line. */
export class AttemptRefused extends ForgeError {
  constructor(message: string) {
    super('attempt_refused', message)
  }
}

/** A cancel of the attempt, with the reason to record and how it counts. */
export interface CancelReason {
  reason: string
  failureClass?: FailureClass
  /** A clean shutdown of whoever launched it: up for retry at once, spending nothing. */
  requeue?: boolean
}

export interface RunAttemptOptions {
  config: ForgeConfig
  /** Names this runner in the attempt row (host:pid). */
  runnerId: string
  /** The executor's id for this attempt (a Kubernetes Job name, a local pid), if it knows it. */
  executorId?: string | null
  /** Cancels the attempt when aborted; the abort's reason (a CancelReason, or any value) is recorded. */
  signal?: AbortSignal
  /** Also store what the process itself writes to stdout and stderr (a runner process of its own: the CLI). */
  captureOutput?: boolean
  /** Told the process group of a shell task's command, so that whoever may kill this process can kill the group too. */
  onProcessGroup?: (pgid: number) => void
  /** How DAG files are imported (a prebuilt runner's compiled modules); default import() through the loader. */
  importDag?: DagImporter
}

export interface RunAttemptResult {
  /** The outcome was recorded; false when the guard refused it (the attempt was given up on meanwhile). */
  recorded: boolean
  outcome: AttemptOutcome
}

/**
 * Runs one attempt start to end (`forge task run --attempt ID`, DESIGN §6): loads it, checks the code identity,
 * resolves the DAG file under this runner's DAGs folder, takes the attempt up, runs the function or shell task
 * with its abort signal, heartbeats every heartbeatIntervalMs, streams the output into log chunks and records
 * the outcome itself with failure class `task`. An unknown, finished or already taken attempt is refused
 * (AttemptRefused) before anything is written.
 */
export async function runAttempt(reporter: AttemptReporter, opts: RunAttemptOptions): Promise<RunAttemptResult> {
  const { config } = opts
  const loaded = await reporter.load()
  if (!loaded) throw new AttemptRefused(`no attempt ${reporter.attemptId}: see \`forge tasks list RUN_ID\` and \`forge logs\``)
  const { spec } = loaded
  if (loaded.state !== 'queued' && loaded.state !== 'running')
    throw new AttemptRefused(
      `attempt ${spec.attemptId} (${spec.dagId}/${spec.runId}/${spec.taskId}, try ${spec.tryNumber}) has already finished: ${loaded.state}`,
    )
  if (!(await reporter.begin(opts.runnerId, opts.executorId ?? null))) {
    throw new AttemptRefused(
      `attempt ${spec.attemptId} (${spec.dagId}/${spec.runId}/${spec.taskId}, try ${spec.tryNumber}) is taken by another runner or no longer current`,
    )
  }
  const logs = new LogStream((chunk) => reporter.log(chunk), loaded.logSeq)
  const abort = new AbortController()
  const stop = (why: CancelReason) => {
    if (!abort.signal.aborted) abort.abort(new AttemptCancelled(why))
  }
  const onOuterAbort = () => stop(asCancel(opts.signal!.reason))
  if (opts.signal?.aborted) onOuterAbort()
  else opts.signal?.addEventListener('abort', onOuterAbort, { once: true })
  const restore = opts.captureOutput ? captureOutput((text) => logs.push(text)) : () => {}
  const timeoutMs = spec.task.timeout_ms
  const timeout = timeoutMs == null ? null : setTimeout(() => stop({ reason: `timed out after ${formatMs(timeoutMs)}` }), timeoutMs)
  const beat = setInterval(() => {
    reporter.heartbeat().then(
      (current) => current || stop({ reason: 'the attempt is no longer current (given up on by its executor or the reaper)' }),
      () => {}, // a database blip: the next beat tries again, and the heartbeat timeout is far longer
    )
  }, config.heartbeatIntervalMs)
  let outcome: AttemptOutcome
  try {
    const write = opts.captureOutput ? (t: string) => void process.stdout.write(t) : (t: string) => logs.push(t)
    outcome = await execute(spec, config, reporter, abort.signal, write, opts.onProcessGroup, opts.importDag)
  } finally {
    clearInterval(beat)
    if (timeout) clearTimeout(timeout)
    opts.signal?.removeEventListener('abort', onOuterAbort)
    restore()
  }
  if (!outcome.ok) logs.push(`\n[forge] attempt failed: ${outcome.reason}\n${outcome.error}\n`)
  await logs.close()
  const recorded = await reporter.record(outcome)
  return { recorded, outcome }
}

/** Runs the task; a cancelled or timed-out attempt fails with that reason, whatever the task then returns. */
async function execute(
  spec: AttemptSpec,
  config: ForgeConfig,
  reporter: AttemptReporter,
  signal: AbortSignal,
  write: (text: string) => void,
  onProcessGroup: ((pgid: number) => void) | undefined,
  importDag: DagImporter | undefined,
): Promise<AttemptOutcome> {
  let ran: string | undefined
  const outcome = await executeTask(spec, config, reporter, signal, write, (digest) => (ran = digest), onProcessGroup, importDag)
  return ran ? { ...outcome, codeDigest: ran } : outcome
}

async function executeTask(
  spec: AttemptSpec,
  config: ForgeConfig,
  reporter: AttemptReporter,
  signal: AbortSignal,
  write: (text: string) => void,
  codeDigest: (ran: string) => void,
  onProcessGroup: ((pgid: number) => void) | undefined,
  importDag: DagImporter | undefined,
): Promise<AttemptOutcome> {
  const hooks: TaskHooks = {
    codeDigest,
    signal,
    log: (line: string) => write(line.endsWith('\n') ? line : line + '\n'),
    progress: () => {},
    heartbeat: async (details: unknown) => {
      if (!(await reporter.heartbeat(details))) throw new ForgeError('attempt_not_current', 'the attempt is no longer current; stop')
    },
    scratchRoot: join(config.home, 'scratch'),
    importDag: importDag && ((file, ran) => importDag(file, ran, hooks.log)),
  }
  let run: Promise<TaskOutcome>
  try {
    const file = insideFolder(config.dagsFolder, spec.fileloc)
    run = spec.task.kind === 'shell' ? runShellTask(spec, hooks, onProcessGroup) : runFunctionTask({ ...spec, file }, hooks)
  } catch (thrown) {
    const err = coerceError(thrown)
    return { ok: false, error: err.stack ?? err.message, reason: err.message, nonRetryable: true, failureClass: FailureClass.Task }
  }
  const cancelled = new Promise<CancelReason>((resolve) => {
    const settle = () => resolve(asCancel(signal.reason))
    if (signal.aborted) settle()
    else signal.addEventListener('abort', settle, { once: true })
  })
  // Once cancelled, the task gets a grace period to stop; its result no longer counts either way.
  const first = await Promise.race([run.then((o) => ({ o })), cancelled.then((c) => ({ c }))])
  if ('o' in first && !signal.aborted) return asOutcome(first.o)
  const why = 'c' in first ? first.c : asCancel(signal.reason)
  await Promise.race([run.catch(() => {}), new Promise((r) => setTimeout(r, RUNNER_CANCEL_GRACE_MS).unref())])
  return {
    ok: false,
    error: why.reason,
    reason: why.reason,
    nonRetryable: false,
    failureClass: why.failureClass ?? FailureClass.Task,
    requeue: why.requeue,
  }
}

function asOutcome(o: TaskOutcome): AttemptOutcome {
  return o.ok ? o : { ...o, failureClass: FailureClass.Task }
}

/** The task's signal.reason when its runner stops it: an Error, as task code expects, that says how it counts. */
export class AttemptCancelled extends Error {
  constructor(readonly cancel: CancelReason) {
    super(cancel.reason)
    this.name = 'AttemptCancelled'
  }
}

function asCancel(reason: unknown): CancelReason {
  if (reason instanceof AttemptCancelled) return reason.cancel
  if (reason && typeof reason === 'object' && typeof (reason as CancelReason).reason === 'string') return reason as CancelReason
  return { reason: reason instanceof Error ? reason.message : String(reason ?? 'cancelled') }
}

/** Tees what this process writes to stdout and stderr into `sink`; returns the function that undoes it. */
function captureOutput(sink: (text: string) => void): () => void {
  const streams = [process.stdout, process.stderr] as const
  const originals = streams.map((s) => s.write.bind(s))
  streams.forEach((s, i) => {
    s.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      return (originals[i] as (...a: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof s.write
  })
  return () => streams.forEach((s, i) => void (s.write = originals[i] as typeof s.write))
}
