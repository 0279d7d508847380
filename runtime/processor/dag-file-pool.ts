import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { computeCodeDigest } from '../dag/code-digest.ts'
import { formatMs } from '../duration.ts'
import { relativeName } from './dag-file-ref.ts'
import { childFailure } from './child-failure.ts'
import { LOADER_URL } from '../loader-url.ts'
import type { ChildOutcome } from './run-child.ts'
import type { PoolReply, ProcessDagFileResult } from './types.ts'

const POOL_CHILD = fileURLToPath(new URL('./pool-child.ts', import.meta.url))

/**
 * A child that has not started after this long (or timeoutMs, if longer) is killed. Starting takes ~0.3 s of CPU,
 * seconds on a loaded machine; a small timeoutMs must not turn a slow start into failed files.
 */
const START_TIMEOUT_MS = 60_000

/** Keep only the end of stderr per file: enough to explain a crash, bounded for a file that logs in a loop. */
const STDERR_TAIL = 4096

export interface DagFilePoolOptions {
  /** Children at most (one per core); each imports one file at a time. */
  size: number
  /** Per file, from the moment a started child has it: the child is killed and replaced, the file reported. */
  timeoutMs: number
}

interface Job {
  abs: string
  root: string
  rel: string
  digest: string
  done: (result: ProcessDagFileResult) => void
}

interface Child {
  proc: ChildProcess
  /** The timer starts once the child is ready, so a slow start on a loaded machine is not charged to a file. */
  job: (Job & { id: number; timer: NodeJS.Timeout | null; timedOut: boolean }) | null
  ready: boolean
  /** Kills a child that is not ready in time (START_TIMEOUT_MS); its file is reported as not imported. */
  startTimer: NodeJS.Timeout
  startTimedOut: boolean
  /** Told to take no more files (it asked to retire, or the pool is closing); it is being killed. */
  retired: boolean
  stderr: string
}

/**
 * Parent side of the DAG processor: a few long-lived children, each importing files one at a time, so a folder
 * costs one child start per core instead of one per file (runtime/README.md, "DAG file pool"). A child that
 * times out, exits or crashes is gone with the file it held, which becomes that file's import error; the files
 * still queued go to a fresh child. A child that reports its file changed global state is retired the same way.
 * Children are started on demand and never outlive `close()`; ES modules stay cached in a child, so use one pool
 * per refresh of a folder, never across refreshes.
 */
export class DagFilePool {
  private readonly queue: Job[] = []
  private readonly children = new Set<Child>()
  private nextId = 1
  private closed = false
  /** Children started so far, replacements included (for tests and benchmarks). */
  started = 0

  constructor(private readonly opts: DagFilePoolOptions) {}

  /**
   * The file's serialized DAG, with its code digest, or import error; never throws. `root` is the DAGs folder
   * names are relative to. The digest is taken before the child reads the file (the caller's, if it has one), so
   * an edit made during the import shows as a new digest next time rather than filing new code under an old one.
   */
  load(file: string, root: string, codeDigest?: string): Promise<ProcessDagFileResult> {
    const abs = resolve(file)
    const rootAbs = resolve(root)
    const digest = codeDigest ?? computeCodeDigest(abs).digest
    return new Promise((done) => {
      const job = { abs, root: rootAbs, rel: relativeName(rootAbs, abs), digest, done }
      if (this.closed)
        return done({ ok: false, error: { file: job.rel, line: null, message: 'the DAG processor was closed before the file was imported' } })
      this.queue.push(job)
      this.pump()
    })
  }

  /** Kills every child; files still queued or in flight become import errors. */
  async close(): Promise<void> {
    this.closed = true
    for (const job of this.queue.splice(0))
      job.done({ ok: false, error: { file: job.rel, line: null, message: 'the DAG processor was closed before the file was imported' } })
    await Promise.all([...this.children].map((c) => this.retire(c)))
  }

  private pump(): void {
    for (const child of this.children) {
      if (this.queue.length === 0) return
      if (!child.job && !child.retired) this.dispatch(child, this.queue.shift()!)
    }
    while (this.queue.length > 0 && this.active() < this.opts.size) this.dispatch(this.spawn(), this.queue.shift()!)
  }

  private startTimeoutMs(): number {
    return Math.max(this.opts.timeoutMs, START_TIMEOUT_MS)
  }

  private active(): number {
    let n = 0
    for (const c of this.children) if (!c.retired) n++
    return n
  }

  private spawn(): Child {
    // stdout is ignored rather than piped: a DAG file that prints a lot must not block on a full pipe.
    const proc = spawn(process.execPath, ['--import', LOADER_URL, POOL_CHILD], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: process.env })
    const startTimer = setTimeout(() => {
      child.startTimedOut = true
      proc.kill('SIGKILL')
    }, this.startTimeoutMs())
    const child: Child = { proc, job: null, retired: false, stderr: '', ready: false, startTimer, startTimedOut: false }
    this.children.add(child)
    this.started++
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      child.stderr = (child.stderr + chunk).slice(-STDERR_TAIL)
    })
    proc.on('message', (raw) => this.onMessage(child, raw as PoolReply | { type: 'ready' }))
    // A process that could not start at all gets no 'close' to wait for.
    proc.on('error', (err) => {
      if (proc.pid === undefined) this.onGone(child, { kind: 'exited', code: null, signal: null, stderr: err.message })
    })
    // 'close' comes after the IPC channel and stderr are drained, so a reply sent just before exit is not lost.
    proc.on('close', (code, signal) => {
      this.onGone(child, child.job?.timedOut ? { kind: 'timeout' } : { kind: 'exited', code, signal, stderr: child.stderr })
    })
    return child
  }

  private dispatch(child: Child, job: Job): void {
    const id = this.nextId++
    child.stderr = ''
    child.job = { ...job, id, timer: null, timedOut: false }
    child.proc.send({ type: 'load', id, file: job.abs, root: job.root }, (err) => {
      // The child died before it could take the file: its 'close' reports the file.
      if (err) child.proc.kill('SIGKILL')
    })
    if (child.ready) this.startTimer(child)
  }

  private startTimer(child: Child): void {
    const job = child.job!
    job.timer = setTimeout(() => {
      if (child.job !== job) return
      job.timedOut = true
      // SIGKILL because a file stuck in a synchronous loop never runs a graceful handler.
      child.proc.kill('SIGKILL')
    }, this.opts.timeoutMs)
  }

  private onMessage(child: Child, raw: PoolReply | { type: 'ready' }): void {
    if (raw?.type !== 'ready') return this.onReply(child, raw)
    if (child.ready) return
    child.ready = true
    clearTimeout(child.startTimer)
    if (child.job && !child.job.timer) this.startTimer(child)
  }

  private onReply(child: Child, reply: PoolReply): void {
    const job = child.job
    // Anything else (the DAG file calling process.send itself, a late reply) is ignored.
    if (!job || reply?.type !== 'result' || reply.id !== job.id || job.timedOut) return
    clearTimeout(job.timer ?? undefined)
    child.job = null
    const m = reply.message
    if (m?.kind === 'dag') job.done({ ok: true, dag: { ...m.dag, code_digest: job.digest } })
    else if (m?.kind === 'error') job.done({ ok: false, error: m.error })
    else job.done({ ok: false, error: { file: job.rel, line: null, message: 'unexpected result from the DAG processor' } })
    if (reply.retire) void this.retire(child)
    this.pump()
  }

  private onGone(child: Child, outcome: Exclude<ChildOutcome, { kind: 'reported' }>): void {
    if (!this.children.delete(child)) return
    clearTimeout(child.startTimer)
    const job = child.job
    child.job = null
    if (job) {
      clearTimeout(job.timer ?? undefined)
      const notStarted = {
        file: job.rel,
        line: null,
        message: `the DAG processor's child did not start within ${formatMs(this.startTimeoutMs())} (killed); the file was not imported`,
      }
      job.done({ ok: false, error: child.startTimedOut && !child.ready ? notStarted : childFailure(job.rel, outcome, this.opts.timeoutMs) })
    }
    if (!this.closed) this.pump()
  }

  private retire(child: Child): Promise<void> {
    child.retired = true
    return new Promise((done) => {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) return done()
      child.proc.once('close', () => done())
      child.proc.kill('SIGKILL')
    })
  }
}
