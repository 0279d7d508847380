/**
 * A worker thread that runs light function tasks (`isolation: 'thread'`), many at once: they share the thread's
 * event loop, and the DAG module is imported once per version instead of once per attempt. When its scheduler
 * allows it, the thread also takes chain edges itself (runtime/scheduler/chain-edge.ts).
 */
import { parentPort } from 'node:worker_threads'
import type { SerializedDag, SerializedTask } from '../../dag/serialize.ts'
import { successorSpec, takeChainEdge, type ChainSettings } from '../../scheduler/chain-edge.ts'
import { chainSuccessor } from '../../scheduler/handoff.ts'
import { DirectConnection } from '../../store/direct-connection.ts'
import type { AttemptSpec } from '../executor.ts'
import { runFunctionTask } from '../run-task.ts'

type Message =
  | { type: 'run'; spec: AttemptSpec }
  | { type: 'cancel'; key: string; reason: string }
  | { type: 'chain'; settings: ChainSettings }
  | { type: 'drain' }

const aborts = new Map<string, AbortController>()
const dags = new Map<number, SerializedDag>()
let chaining: { settings: ChainSettings; sql: DirectConnection } | null = null
let draining = false
const edgesInFlight = new Set<Promise<void>>()

parentPort!.on('message', (msg: Message) => {
  if (msg.type === 'cancel') aborts.get(msg.key)?.abort(new Error(msg.reason))
  else if (msg.type === 'run') run(msg.spec)
  else if (msg.type === 'chain') chaining = { settings: msg.settings, sql: new DirectConnection(msg.settings.databaseUrl) }
  else {
    // The scheduler is stopping: no new edges, and every edge already taken is reported before "drained".
    draining = true
    void Promise.allSettled([...edgesInFlight]).then(() => parentPort!.postMessage({ type: 'drained' }))
  }
})

function run(spec: AttemptSpec): void {
  if (spec.chain?.dag) {
    dags.set(spec.chain.versionId, spec.chain.dag)
    spec = { ...spec, chain: { runPk: spec.chain.runPk, versionId: spec.chain.versionId } }
  }
  const abort = new AbortController()
  aborts.set(spec.key, abort)
  void runFunctionTask(spec, {
    signal: abort.signal,
    log: (line) => parentPort!.postMessage({ type: 'log', key: spec.key, chunk: line.endsWith('\n') ? line : line + '\n' }),
    progress: (done, total, unit) => parentPort!.postMessage({ type: 'progress', key: spec.key, done, total, unit }),
  }).then((outcome) => {
    aborts.delete(spec.key)
    const dag = spec.chain && dags.get(spec.chain.versionId)
    // Decided here, synchronously: most results (fan-outs, joins) have no chain successor and go straight back.
    const next = outcome.ok && chaining && !draining && dag && !abort.signal.aborted ? chainSuccessor(dag, spec.task) : null
    if (next) {
      const edge = chainEdge(chaining!, spec, next, (outcome as { result: unknown }).result)
      edgesInFlight.add(edge)
      void edge.finally(() => edgesInFlight.delete(edge))
    } else parentPort!.postMessage({ type: 'outcome', key: spec.key, outcome })
  })
}

async function chainEdge(c: NonNullable<typeof chaining>, spec: AttemptSpec, next: SerializedTask, result: unknown): Promise<void> {
  let edge
  try {
    edge = await takeChainEdge(c.sql, c.settings, spec, next, result)
  } catch {
    edge = { recorded: false as const }
  }
  if (!edge.recorded) {
    parentPort!.postMessage({ type: 'outcome', key: spec.key, outcome: { ok: true, result } })
    return
  }
  // Reported before the successor starts, so the scheduler knows it before any of its events arrive, and heartbeats
  // it even if its first synchronous stretch blocks this thread for long (posting after the start would save about
  // 20 µs an edge, but a successor the scheduler does not know of goes unheartbeated and is reaped and run twice).
  // The message carries the claim only: the scheduler's side builds the same spec (a copy took ~0.07 ms to send).
  parentPort!.postMessage({ type: 'chained', key: spec.key, value: edge.value, claim: edge.claim })
  if (edge.claim) run(successorSpec(spec, next, edge.claim, edge.value))
}
