import { fileURLToPath } from 'node:url'
import { dirname } from 'node:path'
import { loadConfig, type ForgeConfig } from '../../runtime/config.ts'
import type { DagDefinition } from '../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../runtime/dag/serialize.ts'
import { LocalExecutor } from '../../runtime/executors/local/local-executor.ts'
import { Scheduler, type SchedulerEvent } from '../../runtime/scheduler/scheduler.ts'
import type { Store } from '../../runtime/store/connect.ts'
import { syncDags } from '../../runtime/store/dag.repo.ts'
import { triggerRun } from '../../runtime/store/trigger.ts'

export const FIXTURE_DAGS = fileURLToPath(new URL('../fixtures/dags-runtime/', import.meta.url))

export function testConfig(overrides: Partial<ForgeConfig> = {}): ForgeConfig {
  return loadConfig(
    { FORGE_HEARTBEAT_INTERVAL: '200ms', FORGE_HEARTBEAT_TIMEOUT: '1500ms', FORGE_POLL_INTERVAL: '50ms' },
    { dagsFolder: dirname(FIXTURE_DAGS + 'x'), ...overrides },
  )
}

/** Registers `def` (declared in `file` under the fixture folder) and runs one manual run to the end. */
export async function runDagOnce(store: Store, def: DagDefinition, file: string, conf: unknown = {}, overrides: Partial<ForgeConfig> = {}) {
  const config = testConfig(overrides)
  await syncDags(store.db, [serializeDag(def, file)], [])
  const run = await triggerRun(store.db, def.id, conf)
  const events: SchedulerEvent[] = []
  const scheduler = new Scheduler({
    config,
    store,
    executor: new LocalExecutor({ parallelism: 8, threadWorkers: 2, store, config }),
    onEvent: (e) => events.push(e),
  })
  await scheduler.run({ untilIdle: true })
  const tis = await store.db
    .selectFrom('task_instance')
    .selectAll()
    .where('dag_run_id', '=', run.id)
    .orderBy('task_id')
    .orderBy('map_index')
    .execute()
  const finalRun = await store.db.selectFrom('dag_run').selectAll().where('id', '=', run.id).executeTakeFirstOrThrow()
  const xcom = async (taskId: string, mapIndex = -1) =>
    (
      await store.db
        .selectFrom('xcom')
        .select('value')
        .where('dag_run_id', '=', run.id)
        .where('task_id', '=', taskId)
        .where('map_index', '=', mapIndex)
        .executeTakeFirst()
    )?.value
  return { run: finalRun, tis, events, xcom, ti: (taskId: string) => tis.find((t) => t.task_id === taskId)! }
}
