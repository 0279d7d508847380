import { RunType } from '../model/states.ts'
import { planDatasetRuns } from '../model/dataset-runs.ts'
import { getDagVersion } from '../store/dag.repo.ts'
import type { Db } from '../store/database.ts'
import { consumeEvents, lockDatasetConsumers, pendingEvents } from '../store/dataset-events.ts'
import { createRun } from '../store/run.repo.ts'
import { scheduledParamsError } from './create-runs.ts'

/**
 * Creates the runs that new dataset events call for (data-aware scheduling): one transaction locks the consumer
 * DAGs, creates their runs with the events linked, and moves each DAG's cursor past what it consumed, so an event
 * starts a consumer's run exactly once whichever scheduler sees it. Run ids carry the event id: two runs for one
 * event cannot both be created. Runs beyond max_active_runs wait queued, like manual ones.
 */
export async function createDatasetRuns(db: Db): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let created = 0
    for (const consumer of await lockDatasetConsumers(trx, 20)) {
      const { datasets, batch } = consumer.dataset_schedule
      const events = await pendingEvents(trx, datasets, consumer.last_dataset_event_id, batch ? null : 1000)
      const dag = await getDagVersion(trx, consumer.latest_version_id)
      const paramsError = scheduledParamsError(dag)
      for (const group of planDatasetRuns(events, datasets, batch)) {
        const first = group[0]!
        const last = group[group.length - 1]!
        const run = await createRun(trx, {
          dag,
          versionId: consumer.latest_version_id,
          runType: RunType.DatasetTriggered,
          logicalDate: last.timestamp,
          interval: { start: first.timestamp, end: last.timestamp },
          conf: paramsError ? {} : dag.default_params,
          runId: `${RunType.DatasetTriggered}__${last.timestamp.toISOString()}_${last.id}`,
          failedBecause: paramsError ?? undefined,
        })
        if (run) created++
        await consumeEvents(
          trx,
          consumer.dag_id,
          run?.id ?? null,
          group.map((e) => e.id),
        )
      }
    }
    return created
  })
}
