/**
 * A worker thread that runs light function tasks (`isolation: 'thread'`), many at once: they share the thread's
 * event loop, and the DAG module is imported once per version instead of once per attempt. It only runs tasks:
 * the executor's side hands each result to the scheduler, which records it.
 */
import { parentPort } from 'node:worker_threads'
import type { AttemptSpec } from '../executor.ts'
import { runFunctionTask } from '../run-task.ts'
// The authoring API every DAG file imports, loaded before the thread says it is ready: a DAG's first import is then cheap.
import '../../index.ts'

type Message = { type: 'run'; spec: AttemptSpec } | { type: 'cancel'; key: string; reason: string }

const aborts = new Map<string, AbortController>()

parentPort!.on('message', (msg: Message) => {
  if (msg.type === 'cancel') aborts.get(msg.key)?.abort(new Error(msg.reason))
  else run(msg.spec)
})

function run(spec: AttemptSpec): void {
  const abort = new AbortController()
  aborts.set(spec.key, abort)
  void runFunctionTask(spec, {
    signal: abort.signal,
    log: (line) => parentPort!.postMessage({ type: 'log', key: spec.key, chunk: line.endsWith('\n') ? line : line + '\n' }),
    progress: (done, total, unit) => parentPort!.postMessage({ type: 'progress', key: spec.key, done, total, unit }),
  }).then((outcome) => {
    aborts.delete(spec.key)
    parentPort!.postMessage({ type: 'outcome', key: spec.key, outcome })
  })
}

parentPort!.postMessage({ type: 'ready' })
