/**
 * A container runtime for the double's kubelet that runs each pod's worker as a local process: the command line
 * and environment the kubelet built from the pod spec (the image is not pulled: its environment and working
 * directory are given), stdout and stderr streamed into the pod log, the exit code (128 + signal number when
 * killed) ending the pod. The process gets a process group of its own, as a container gets a PID namespace, so a
 * stop reaches whatever it started: SIGTERM, then SIGKILL after the grace period, as the kubelet does.
 */
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import type { PodExit, PodIo, PodRun } from './kubelet.ts'
import type { KObject } from './object-store.ts'

export interface LocalProcessPodsOptions {
  /** The image's WORKDIR. */
  workingDir: string
  /** Overrides the pod's terminationGracePeriodSeconds (Kubernetes' default is 30 s). */
  terminationGraceMs?: number
}

export interface LocalProcessPods {
  run: PodRun
  /** Process ids of workers still running, by pod name. */
  running(): Map<string, number>
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

export function localProcessPods(o: LocalProcessPodsOptions): LocalProcessPods {
  const pids = new Map<string, number>()
  const run = (pod: KObject, io: PodIo): Promise<PodExit> =>
    new Promise((resolve, reject) => {
      const [command, ...args] = io.argv
      const child = spawn(command!, args, { env: io.env, cwd: o.workingDir, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
      child.once('error', reject)
      child.stdout!.setEncoding('utf8').on('data', io.log)
      child.stderr!.setEncoding('utf8').on('data', io.log)
      pids.set(pod.metadata.name, child.pid!)
      const graceMs = o.terminationGraceMs ?? ((pod.spec?.terminationGracePeriodSeconds as number | undefined) ?? 30) * 1000
      let killTimer: NodeJS.Timeout | undefined
      const stop = () => {
        if (io.signal.reason === 'kill') return killGroup(child.pid!, 'SIGKILL')
        killGroup(child.pid!, 'SIGTERM')
        killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), graceMs)
        killTimer.unref()
      }
      if (io.signal.aborted) stop()
      else io.signal.addEventListener('abort', stop, { once: true })
      // Whatever the worker left in its process group goes with the container; then its pipes close.
      child.once('exit', () => killGroup(child.pid!, 'SIGKILL'))
      // 'close', not 'exit': the pod's log holds all the output once the pod shows it terminated.
      child.once('close', (code, signal) => {
        clearTimeout(killTimer)
        io.signal.removeEventListener('abort', stop)
        pids.delete(pod.metadata.name)
        if (signal) resolve({ exitCode: 128 + constants.signals[signal], reason: 'Error' })
        else resolve(code ?? 1)
      })
    })
  return { run, running: () => new Map(pids) }
}
