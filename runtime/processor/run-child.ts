import { spawn } from 'node:child_process'
import { LOADER_URL } from '../loader-url.ts'
import type { ChildMessage } from './types.ts'

/** Keep only the end of stderr: enough to explain a crash, bounded for a file that logs in a loop. */
const STDERR_TAIL = 4096

export type ChildOutcome =
  | { kind: 'reported'; message: ChildMessage }
  | { kind: 'timeout' }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stderr: string }

/**
 * Parent side: runs a child entry under the loader (tsx and the `adas-forge` self-resolution) and waits for its one IPC message. The child is SIGKILLed after
 * `timeoutMs` because a DAG file stuck in a synchronous loop never runs a graceful handler.
 */
export function runChild(entry: string, args: string[], timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    // stdout is ignored rather than piped: a DAG file that prints a lot must not block on a full pipe.
    const child = spawn(process.execPath, ['--import', LOADER_URL, entry, ...args], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: process.env,
    })
    let message: ChildMessage | null = null
    let timedOut = false
    let stderr = ''
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)

    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL)
    })
    child.on('message', (raw) => {
      if (message) return
      // Anything else (the DAG file calling process.send itself) is ignored: we wait for the real result.
      const parsed = parseMessage(raw)
      if (parsed) message = parsed
    })
    child.on('error', (err) => {
      clearTimeout(timer)
      resolve({ kind: 'exited', code: null, signal: null, stderr: err.message })
    })
    // 'close' comes after the IPC channel and stderr are drained, so a message sent just before exit is not lost.
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (message) resolve({ kind: 'reported', message })
      else if (timedOut) resolve({ kind: 'timeout' })
      else resolve({ kind: 'exited', code, signal, stderr })
    })
  })
}

function parseMessage(raw: unknown): ChildMessage | null {
  try {
    const value = JSON.parse(String(raw)) as { kind?: unknown }
    return value && ['dag', 'params', 'error'].includes(value.kind as string) ? (value as ChildMessage) : null
  } catch {
    return null
  }
}
