/**
 * A task runner started ahead of need (runner-pool.ts): it loads the runtime and the authoring API that DAG files
 * import, says it is ready, and waits for the one attempt it will run, as `forge task run --attempt ID` would run
 * it. It exits after that attempt; one whose launcher goes away before handing it one exits at once.
 */
import { taskRun } from '../../cli/task-commands.ts'
import '../../index.ts'

type LauncherMessage = { type: 'run'; attemptId: number; executorId: string }

let started = false
const onMessage = (m: LauncherMessage) => {
  if (m?.type !== 'run' || started) return
  started = true
  process.off('disconnect', onIdleDisconnect)
  void taskRun(m.attemptId, { executorId: m.executorId }).then(
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
