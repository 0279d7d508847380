import type { ForgeConfig } from '../../runtime/config.ts'
import { LocalExecutor } from '../../runtime/executors/local/local-executor.ts'
import { Scheduler } from '../../runtime/scheduler/scheduler.ts'
import type { Store } from '../../runtime/store/connect.ts'
import { testConfig } from './run-dag.ts'

/**
 * Runs a scheduler (thread executor) until `done` holds, then stops it. A generous deadline only keeps a broken
 * test from hanging: on it, the error shows the runs, task instances, events and cursors.
 */
export async function scheduleUntil(store: Store, done: () => Promise<boolean>, config: ForgeConfig = testConfig(), ms = 60_000): Promise<void> {
  const db = store.db
  const scheduler = new Scheduler({ config, store, executor: new LocalExecutor({ parallelism: 8, threadWorkers: 2, store, config }) })
  const loop = scheduler.run()
  const end = Date.now() + ms
  try {
    while (!(await done())) {
      if (Date.now() > end) {
        const runs = await db.selectFrom('dag_run').select(['dag_id', 'state', 'reason']).execute()
        const tis = await db.selectFrom('task_instance').select(['dag_id', 'task_id', 'state', 'reason']).execute()
        const events = await db.selectFrom('dataset_event').selectAll().execute()
        const dags = await db.selectFrom('dag').select(['dag_id', 'dataset_schedule', 'last_dataset_event_id', 'is_paused']).execute()
        throw new Error(`timed out waiting for the runs: ${JSON.stringify({ runs, tis, events, dags })}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  } finally {
    scheduler.stop()
    await loop
  }
}

/** Whether `dagId` has at least `n` finished runs. */
export async function finishedRuns(store: Store, dagId: string, n: number): Promise<boolean> {
  const runs = await store.db.selectFrom('dag_run').select('state').where('dag_id', '=', dagId).execute()
  return runs.filter((r) => r.state === 'success' || r.state === 'failed').length >= n
}
