import { spawn } from 'node:child_process'
import { taskEnvironment } from '../config.ts'
import type { AttemptSpec } from '../store/attempt-spec.ts'
import type { TaskHooks, TaskOutcome } from './run-task.ts'

/** How long a cancelled shell's process group gets between SIGTERM and SIGKILL. */
const SHELL_KILL_GRACE_MS = 2000

/**
 * Runs a shell task with /bin/sh in its own process group, so cancelling kills everything it started (`onGroup`
 * hears of the group, so that whoever kills this process can kill the group too). The command sees the task
 * environment allow list (config.ts taskEnvironment), never Forge's database URL. Inputs
 * reach it as FORGE_INPUT_<NAME> (strings as-is, other values as JSON); its result is its last stdout line, as
 * Airflow's BashOperator pushes.
 */
export function runShellTask(spec: AttemptSpec, hooks: TaskHooks, onGroup?: (pgid: number) => void): Promise<TaskOutcome> {
  const env: Record<string, string> = { ...taskEnvironment(), ...spec.task.env }
  for (const [name, value] of Object.entries((spec.inputs ?? {}) as Record<string, unknown>)) {
    env[`FORGE_INPUT_${name.toUpperCase()}`] = typeof value === 'string' ? value : JSON.stringify(value)
  }
  Object.assign(env, {
    FORGE_DAG_ID: spec.dagId,
    FORGE_RUN_ID: spec.runId,
    FORGE_TASK_ID: spec.taskId,
    FORGE_MAP_INDEX: String(spec.mapIndex),
    FORGE_TRY_NUMBER: String(spec.tryNumber),
    FORGE_LOGICAL_DATE: spec.logicalDate,
    FORGE_PARAMS: JSON.stringify(spec.params ?? {}),
  })
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', spec.task.command ?? ''], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let lastLine = ''
    let pending = ''
    child.stdout.on('data', (buf: Buffer) => {
      const text = buf.toString('utf8')
      process.stdout.write(text)
      pending += text
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const l of lines) if (l.trim()) lastLine = l
    })
    child.stderr.on('data', (buf: Buffer) => process.stderr.write(buf))
    const group = -child.pid!
    if (child.pid) onGroup?.(child.pid)
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(group, sig)
      } catch {
        // The group is gone already.
      }
    }
    const kill = () => {
      signalGroup('SIGTERM')
      setTimeout(() => signalGroup('SIGKILL'), SHELL_KILL_GRACE_MS).unref()
    }
    // This process may exit before the grace period ends (its scheduler died): take the group with it.
    const killOnExit = () => signalGroup('SIGKILL')
    process.once('exit', killOnExit)
    if (hooks.signal.aborted) kill()
    else hooks.signal.addEventListener('abort', kill, { once: true })
    child.on('error', (err) => resolve({ ok: false, error: err.message, nonRetryable: false, reason: `could not start /bin/sh: ${err.message}` }))
    child.on('close', (code, signal) => {
      hooks.signal.removeEventListener('abort', kill)
      process.off('exit', killOnExit)
      if (pending.trim()) lastLine = pending
      if (code === 0) resolve({ ok: true, result: lastLine.trim() })
      else {
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`
        resolve({ ok: false, error: `shell command ${how}`, nonRetryable: false, reason: `shell command ${how}` })
      }
    })
  })
}
