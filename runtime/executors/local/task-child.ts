/**
 * Entry of one child process per attempt (`isolation: 'process'`, and every shell task). It gets the attempt over
 * IPC, runs it, sends the outcome back and exits. If the scheduler dies, the IPC channel closes and the child
 * kills what it started and exits at once: a crashed scheduler never leaves an attempt running that another
 * scheduler will retry, so no task instance runs twice at the same time.
 */
import type { AttemptSpec } from '../executor.ts'
import { runFunctionTask, type TaskOutcome } from '../run-task.ts'
import { runShellTask } from './shell-task.ts'

type ParentMessage = { type: 'run'; spec: AttemptSpec } | { type: 'cancel'; reason: string }

const abort = new AbortController()
let started = false

process.on('disconnect', () => {
  abort.abort(new Error('scheduler connection lost'))
  // Give a shell task's process group a moment to receive its signal, then go.
  setTimeout(() => process.exit(70), 200).unref()
})

process.on('message', (msg: ParentMessage) => {
  if (msg.type === 'cancel') abort.abort(new Error(msg.reason))
  else if (msg.type === 'run' && !started) {
    started = true
    void run(msg.spec)
  }
})

async function run(spec: AttemptSpec): Promise<void> {
  const hooks = {
    signal: abort.signal,
    log: (line: string) => process.stdout.write(line.endsWith('\n') ? line : line + '\n'),
    progress: (done: number, total: number | null, unit: string) => send({ type: 'progress', done, total, unit }),
  }
  let outcome: TaskOutcome
  if (spec.task.kind === 'shell') outcome = await runShellTask(spec, hooks, (pgid) => send({ type: 'group', pgid }))
  else outcome = await runFunctionTask(spec, hooks)
  send({ type: 'outcome', outcome })
  // Writes to a pipe are queued, and process.exit drops what is still queued: let the task's output reach the
  // executor first (bounded, should nobody read it).
  const flushed = Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((r) => s.write('', () => r()))))
  await Promise.race([flushed, new Promise((r) => setTimeout(r, 5000).unref())])
  // Exit even if the task left timers or sockets open; the outcome has been handed over.
  setTimeout(() => process.exit(0), 20).unref()
  process.disconnect?.()
}

function send(message: unknown): void {
  if (process.connected) process.send!(message)
}
