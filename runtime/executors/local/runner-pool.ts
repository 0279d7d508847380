import { fork, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LOADER_URL } from '../../loader-url.ts'
import { markRunnerUsed } from '../../prebuilt/prune-cache.ts'
import type { RunnerBundle } from '../../prebuilt/runner-bundle.ts'

const CHILD = fileURLToPath(new URL('./runner-child.ts', import.meta.url))
const NAVIGATOR = new URL('./runner-navigator.mjs', import.meta.url).href
// The package's loader (tsx plus the adas-forge self-resolve hook), by URL: DAG folders may be anywhere.

/** A runner process, ready (its runtime loaded) or still starting, that will run exactly one attempt. */
export interface PooledRunner {
  child: ChildProcess
  ready: Promise<void>
  /** The last lines the runner wrote to stderr (its own errors: task output goes to the attempt's log). */
  stderrTail(): string
  /** Deletes the runner's stderr file. */
  dispose(): void
}

export interface RunnerPoolOptions {
  /** Runners kept started ahead of need. */
  size: number
  env: Record<string, string>
  /** Own process group, so that the runner outlives this process (a Postgres store: it records its own result). */
  detached: boolean
  /**
   * The prebuilt runner being built (runtime/prebuilt/): runners start from it once it is ready, and through tsx
   * when it is null (its build failed) or when an attempt cannot wait for it.
   */
  prebuilt?: Promise<RunnerBundle | null>
}

/**
 * Task runner processes started ahead of need: starting one costs a Node start and the runtime's modules (through
 * tsx, about 0.8 s of CPU; prebuilt, far less), which an attempt would otherwise wait for. Each runner runs one attempt and exits;
 * the pool starts another in the background. Stderr goes to a file rather than a pipe, so that a runner that
 * outlives this process never writes to a closed pipe.
 */
export class RunnerPool {
  private idle: PooledRunner[] = []
  private dir = mkdtempSync(join(tmpdir(), 'forge-runners-'))
  private closed = false
  private n = 0
  /** The prebuilt runner; undefined while it is being built. */
  private bundle: RunnerBundle | null | undefined = null
  private warmWanted = false
  /** Settles once runners start from the prebuilt runner or, failing that, through tsx. */
  readonly prepared: Promise<void>

  constructor(private opts: RunnerPoolOptions) {
    if (!opts.prebuilt) {
      this.prepared = Promise.resolve()
      return
    }
    this.bundle = undefined
    this.prepared = opts.prebuilt.then((b) => {
      this.bundle = b
      if (this.warmWanted) this.warm()
    })
  }

  /** Keeps `size` runners started (call once the executor expects process attempts); after the prebuilt runner's build. */
  warm(): void {
    this.warmWanted = true
    if (this.bundle === undefined) return
    while (!this.closed && this.idle.length < this.opts.size) this.idle.push(this.spawn())
  }

  /** A runner for one attempt: a ready one if there is one, else the oldest starting one, else a new one. */
  take(): PooledRunner {
    const alive = this.idle.filter((r) => r.child.exitCode === null && r.child.signalCode === null)
    this.idle = alive
    const runner = this.idle.shift() ?? this.spawn()
    // Refill behind the attempt, not before it: the new start competes for the same cores.
    setImmediate(() => this.warm())
    return runner
  }

  private spawn(): PooledRunner {
    const errFile = join(this.dir, `${process.pid}-${++this.n}.err`)
    const fd = openSync(errFile, 'w')
    const bundle = this.bundle
    if (bundle) markRunnerUsed(bundle.dir)
    const child = fork(bundle ? bundle.child : CHILD, bundle ? [bundle.manifest] : [], {
      execArgv: bundle ? ['--import', NAVIGATOR] : ['--import', LOADER_URL],
      stdio: ['ignore', 'ignore', fd, 'ipc'],
      env: this.opts.env,
      detached: this.opts.detached,
    })
    closeSync(fd)
    const ready = new Promise<void>((resolve) => {
      const onMessage = (m: { type?: string }) => {
        if (m?.type !== 'ready') return
        child.off('message', onMessage)
        resolve()
      }
      child.on('message', onMessage)
      child.once('exit', () => resolve())
    })
    child.on('error', () => {})
    // An idle runner must not keep this process alive.
    child.unref()
    child.channel?.unref()
    return {
      child,
      ready,
      stderrTail: () => {
        try {
          return readFileSync(errFile, 'utf8').slice(-2000)
        } catch {
          return ''
        }
      },
      dispose: () => rmSync(errFile, { force: true }),
    }
  }

  /** Stops the idle runners (a runner with an attempt is its attempt's to end). */
  close(): void {
    this.closed = true
    for (const r of this.idle.splice(0)) {
      r.child.kill('SIGKILL')
      r.dispose()
    }
  }
}
