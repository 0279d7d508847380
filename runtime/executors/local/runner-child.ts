/**
 * A task runner started ahead of need (runner-pool.ts): it loads the runtime and the authoring API that DAG files
 * import, says it is ready, and waits for the one attempt it will run, as `forge task run --attempt ID` would run
 * it. It exits after that attempt; one whose launcher goes away before handing it one exits at once. Started as
 * the prebuilt runner (runtime/prebuilt/, plain JavaScript), it is given its bundle's manifest and imports DAG
 * files compiled against that bundle; started through tsx, it has no argument and imports them as TypeScript.
 */
import { taskRun } from '../../cli/task-commands.ts'
import '../../index.ts'
import { prebuiltDagImporter } from '../../prebuilt/import-dag.ts'

type LauncherMessage = { type: 'run'; attemptId: number; executorId: string }

// The preload that spared pg its Cloudflare check (runner-navigator.mjs) is not for task code to see.
if ((globalThis as { navigator?: { forgePreload?: boolean } }).navigator?.forgePreload) delete (globalThis as { navigator?: unknown }).navigator

const manifest = process.argv[2]
const importDag = manifest ? prebuiltDagImporter(manifest) : undefined

let started = false
const onMessage = (m: LauncherMessage) => {
  if (m?.type !== 'run' || started) return
  started = true
  process.off('disconnect', onIdleDisconnect)
  void taskRun(m.attemptId, { executorId: m.executorId, importDag }).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
      process.exit(1)
    },
  )
}
const onIdleDisconnect = () => process.exit(0)
process.on('message', onMessage)
process.once('disconnect', onIdleDisconnect)
process.send?.({ type: 'ready' })
