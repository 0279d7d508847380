import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DagDefinition } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { claimTasks } from '../../../runtime/store/claim.ts'
import { startQueuedRuns } from '../../../runtime/store/queued-runs.ts'
import { decideTasks } from '../../../runtime/scheduler/decide-tasks.ts'
import { wholeLog } from '../../../runtime/store/attempt-log.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import type { Db } from '../../../runtime/store/database.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'

export const RUNNER_DAGS = fileURLToPath(new URL('../../fixtures/dags-runner/', import.meta.url))

/** Registers the DAGs, triggers `dagId` and claims its first instances as the scheduler "sched-1" would. */
export async function claimAttempts(db: Db, defs: DagDefinition[], dagId: string) {
  await syncDags(
    db,
    defs.map((d) => serializeDag(d, 'runner.dag.ts')),
    [],
  )
  const run = await triggerRun(db, dagId, {})
  await startQueuedRuns(db)
  await decideTasks(db, new Set([run.id]), new Date())
  const claimed = await claimTasks(db, 'sched-1', 100, run.id)
  return { run, claimed, attempt: (taskId: string) => claimed.find((c) => c.task_id === taskId)!.attempt_id! }
}

/** The environment of a `forge task run` child: the fixture DAG folder, a fresh FORGE_HOME, and the store's URL if any. */
export function runnerEnv(url: string | null, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    FORGE_DAGS_FOLDER: RUNNER_DAGS,
    FORGE_HOME: mkdtempSync(join(tmpdir(), 'forge-runner-')),
    FORGE_LOG_LEVEL: 'warn',
    ...extra,
  }
  delete env.FORGE_DATABASE_URL
  if (url) env.FORGE_DATABASE_URL = url
  return env
}

/** Every row an attempt's recording could touch, to check that a refused one touched nothing. */
export async function attemptRows(db: Db, tiId: number) {
  return {
    ti: await db.selectFrom('task_instance').selectAll().where('id', '=', tiId).executeTakeFirstOrThrow(),
    attempts: await db
      .selectFrom('task_attempt')
      .selectAll()
      .select(wholeLog('task_attempt').as('whole_log'))
      .where('task_instance_id', '=', tiId)
      .orderBy('try_number')
      .execute(),
    xcom: await db.selectFrom('xcom').selectAll().where('task_instance_id', '=', tiId).execute(),
  }
}
