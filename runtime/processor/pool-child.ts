/**
 * CHILD ENTRY of the DAG file pool (dag-file-pool.ts). `node --import tsx runtime/processor/pool-child.ts`
 *
 * Imports DAG files one at a time, as the parent sends them, and answers each with one PoolReply over IPC. It
 * tells the parent to retire it when a file changed global state or left handles behind (see global-state.ts);
 * a file that never finishes, exits or crashes the process is the parent's to report. Run by hand with files as
 * arguments (no parent), it prints one reply per file.
 */
import '../index.ts'
import { serializeDag } from '../dag/serialize.ts'
import { checkExecutorConfigs } from './check-executor-configs.ts'
import { dagFileRef, type DagFileRef } from './dag-file-ref.ts'
import { describeError } from './describe-error.ts'
import { captureGlobalState, changedGlobalState, settleLazyGlobals, type GlobalState } from './global-state.ts'
import { importDagFile } from './import-dag-file.ts'
import type { ChildMessage, PoolReply, PoolRequest } from './types.ts'

// Kept before any DAG file runs: a file that replaces process.send must not cut this child off from its parent.
const send = process.send?.bind(process)
const channel = process.channel

let current: { id: number; file: DagFileRef } | null = null
let stateBefore: GlobalState | null = null

function reply(id: number, message: ChildMessage, retire: string | null): void {
  let payload: PoolReply = { type: 'result', id, message, retire }
  try {
    JSON.stringify(payload)
  } catch (err) {
    // A value that JSON cannot hold (a BigInt in task inputs, say) is the DAG's fault: report it as such.
    const file = message.kind === 'error' ? message.error.file : message.kind === 'dag' ? message.dag.fileloc : '?'
    const error = { file, line: null, message: `the result cannot be serialized to JSON: ${(err as Error).message}` }
    payload = { type: 'result', id, message: { kind: 'error', error }, retire }
  }
  if (send) send(payload)
  else process.stdout.write(JSON.stringify(payload) + '\n')
}

/**
 * Errors thrown outside the import's promise (a timer callback, an unawaited rejection) become the current
 * file's import error, with its line. With no file in flight they belong to a file already reported, and no
 * queued file should take the blame: the child leaves and the parent starts another.
 */
function onCrash(err: unknown): void {
  if (!current) process.exit(1)
  const { id, file } = current
  current = null
  reply(id, { kind: 'error', error: describeError(err, file, 'import') }, 'an error was thrown outside the import')
}

async function load(req: PoolRequest): Promise<void> {
  const file = dagFileRef(req.file, req.root)
  current = { id: req.id, file }
  // Unreferenced while a file imports, so a top-level await that nothing can settle empties the event loop
  // (beforeExit, below) instead of waiting for the timeout.
  channel?.unref()
  const before = stateBefore ?? captureGlobalState()
  const resourcesBefore = resourceCounts()
  let message: ChildMessage
  try {
    const def = await importDagFile(file)
    try {
      const dag = serializeDag(def, file.rel)
      checkExecutorConfigs(def, dag)
      message = { kind: 'dag', dag }
    } catch (err) {
      message = { kind: 'error', error: describeError(err, file, 'serialize') }
    }
  } catch (err) {
    message = { kind: 'error', error: describeError(err, file, 'import') }
  }
  if (current?.id !== req.id) return
  current = null
  // Nothing runs between two files, so the state after this one is the next one's starting point.
  stateBefore = captureGlobalState()
  const changed = changedGlobalState(before, stateBefore)
  const left = await settledLeftovers(resourcesBefore)
  channel?.ref()
  reply(req.id, message, changed ? `the file changed ${changed}` : left ? `the file left ${left} behind` : null)
}

/** Active handles and requests by type (Timeout, TCPWrap…): a file that leaves one could act during the next file. */
function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return counts
}

/**
 * What the file left behind, once in-flight requests have had a moment to finish: an fs or DNS request (tsx writes
 * its transform cache asynchronously, for one) completes by itself, while a timer, socket or server stays.
 */
async function settledLeftovers(before: Map<string, number>): Promise<string | null> {
  for (let waited = 0; ; waited += 5) {
    const left = leftBehind(before, resourceCounts())
    if (!left || !/Req/.test(left) || waited >= REQUEST_SETTLE_MS) return left
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const REQUEST_SETTLE_MS = 200

function leftBehind(before: Map<string, number>, after: Map<string, number>): string | null {
  for (const [kind, n] of after) if (n > (before.get(kind) ?? 0)) return `a ${kind}`
  return null
}

function parseRequest(raw: unknown): PoolRequest | null {
  const req = raw as Partial<PoolRequest> | null
  if (req?.type !== 'load' || typeof req.id !== 'number' || typeof req.file !== 'string' || typeof req.root !== 'string') return null
  return req as PoolRequest
}

settleLazyGlobals()
process.on('uncaughtException', onCrash)
process.on('unhandledRejection', onCrash)
// Node exits with 13 when its entry's top-level await is left pending; this child reports the same way.
process.on('beforeExit', () => {
  if (current) process.exit(13)
})

if (send) {
  // A child whose parent died (a crashed CLI or scheduler) must not live on.
  process.on('disconnect', () => process.exit(1))
  process.on('message', (raw) => {
    const req = parseRequest(raw)
    if (req && !current) void load(req)
  })
  // File timeouts count from here: starting Node, tsx and the runtime is not the first file's doing.
  send({ type: 'ready' })
} else {
  const files = process.argv.slice(2)
  for (const [i, f] of files.entries()) await load({ type: 'load', id: i + 1, file: f, root: process.cwd() })
}
