/**
 * Runs a trainer as a local process: argv, never a shell string; an environment made only of the allowlisted
 * variables of the parent environment the caller hands in plus the explicit ones; stdout and stderr streamed to
 * the log line by line. The process leads its own group, so an abort kills everything it started (SIGTERM, then
 * SIGKILL after a grace period), not just the first process.
 */
import { execa } from 'execa'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { TaskContext } from '../../runtime/index.ts'
import { TrainingError } from './errors.ts'

export interface ProcessSpec {
  argv: string[]
  cwd?: string
  env: Record<string, string>
  killGraceMs: number
}

export interface ProcessEnv {
  signal?: AbortSignal
  log: TaskContext['log']
  /** Called for each stdout line (after it is logged). */
  onStdout?(line: string): void
}

export interface ProcessOutcome {
  pid: number
  /** The last non-empty stdout line. */
  lastLine: string | null
  lines: number
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

export async function runProcess(spec: ProcessSpec, env: ProcessEnv): Promise<ProcessOutcome> {
  env.signal?.throwIfAborted()
  const [file, ...args] = spec.argv
  const child = execa(file!, args, {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    cleanup: true,
  })
  const pid = child.pid
  if (pid === undefined) {
    const r = await child
    throw new TrainingError(`could not start the trainer ${JSON.stringify(file)}: ${r.message ?? 'unknown error'}`, 'spawn_failed')
  }
  let lastLine: string | null = null
  let lines = 0
  const pump = (stream: Readable | null, name: 'stdout' | 'stderr'): Promise<void> =>
    new Promise((resolve) => {
      if (!stream) return resolve()
      const rl = createInterface({ input: stream, crlfDelay: Infinity })
      rl.on('line', (line) => {
        lines++
        env.log(line, { stream: name })
        if (name === 'stdout' && line.trim()) {
          lastLine = line.trim()
          env.onStdout?.(lastLine)
        }
      })
      rl.on('close', resolve)
    })
  let killTimer: NodeJS.Timeout | undefined
  const onAbort = (): void => {
    env.log(`aborted: stopping the trainer's process group ${pid} (SIGTERM, SIGKILL after ${spec.killGraceMs} ms)`)
    killGroup(pid, 'SIGTERM')
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), spec.killGraceMs)
  }
  env.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const [result] = await Promise.all([child, pump(child.stdout, 'stdout'), pump(child.stderr, 'stderr')])
    if (env.signal?.aborted) {
      killGroup(pid, 'SIGKILL') // whatever of the group outlived the leader
      throw env.signal.reason
    }
    if (result.failed) {
      const how = result.signal
        ? `was killed by ${result.signal}`
        : result.exitCode !== undefined
          ? `exited with code ${result.exitCode}`
          : `failed: ${result.shortMessage}`
      throw new TrainingError(`the trainer ${JSON.stringify(spec.argv.join(' ').slice(0, 200))} ${how}`, 'trainer_failed', false)
    }
    return { pid, lastLine, lines }
  } finally {
    env.signal?.removeEventListener('abort', onAbort)
    clearTimeout(killTimer)
  }
}
