import type { ChildMessage } from './types.ts'

/**
 * Child side of the protocol: send one message to the parent and exit.
 *
 * The result travels over the IPC channel, not stdout, because DAG files may print anything to stdout. We exit
 * explicitly once the message is flushed because a DAG file may leave timers or sockets open, and the parent
 * waits for the process to end.
 */
let reported = false

export function reportAndExit(message: ChildMessage): void {
  if (reported) return
  reported = true
  let payload: string
  try {
    payload = JSON.stringify(message)
  } catch (err) {
    // A value that JSON cannot hold (a BigInt in task inputs, say) is the DAG's fault: report it as such.
    const file = message.kind === 'error' ? message.error.file : message.kind === 'dag' ? message.dag.fileloc : '?'
    payload = JSON.stringify({
      kind: 'error',
      error: { file, line: null, message: `the result cannot be serialized to JSON: ${(err as Error).message}` },
    })
  }
  if (!process.send) {
    // Run by hand (no parent): print the result, which makes the entry easy to debug from a shell.
    process.stdout.write(payload + '\n', () => process.exit(0))
    return
  }
  process.send(payload, () => process.exit(0))
}

/**
 * A child still waiting at import when its parent dies (a crashed CLI or scheduler) would otherwise live on; the
 * IPC channel closing is our cue to leave. A file stuck in a synchronous loop never runs this: the parent's
 * SIGKILL on timeout is what stops those.
 */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(1))
  // Listening refs the channel; unref it so a top-level await that nothing can settle still ends the process
  // at once (exit code 13) instead of sitting until the timeout.
  process.channel?.unref()
}
