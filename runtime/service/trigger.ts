import { resolve } from 'node:path'
import { ConflictError, ParamsError } from '../errors.ts'
import { RunType } from '../model/states.ts'
import { validateConf } from '../processor/validate-conf.ts'
import { cronFor, intervalStartingAt } from '../scheduler/schedule.ts'
import { refreshDags } from '../scheduler/refresh-dags.ts'
import { getLatestDag } from '../store/dag.repo.ts'
import type { DagRunRow } from '../store/database.ts'
import { createRun } from '../store/run.repo.ts'
import { triggerRun } from '../store/trigger.ts'
import { noDag, type ServiceContext } from './context.ts'

/**
 * Checks a run's conf against the DAG's params schema in a child process (the schema is user code), before any run
 * exists; returns the params with every default applied, or throws ParamsError naming the field. A DAG not yet in
 * the store is looked for in the DAGs folder first.
 */
export async function checkParams(ctx: ServiceContext, dagId: string, conf: Record<string, unknown> = {}): Promise<unknown> {
  let latest = await getLatestDag(ctx.db, dagId)
  if (!latest) {
    await refreshDags(ctx.db, ctx.config)
    latest = await getLatestDag(ctx.db, dagId)
  }
  if (!latest) throw noDag(dagId)
  const checked = await validateConf(resolve(ctx.config.dagsFolder, latest.dag.fileloc), dagId, conf, { timeoutMs: ctx.config.dagImportTimeoutMs })
  if (!checked.ok) throw new ParamsError(checked.message, checked.field)
  return checked.params
}

export interface Triggered {
  run: DagRunRow
  /**
   * The DAG is paused: the run was created, as Airflow creates it, but stays queued until the DAG is unpaused.
   */
  paused: boolean
}

/** A manual run of the DAG's latest version, with checked params (`forge trigger`, POST …/dagRuns). */
export async function triggerDag(ctx: ServiceContext, dagId: string, conf?: Record<string, unknown>): Promise<Triggered> {
  const params = await checkParams(ctx, dagId, conf)
  const run = await triggerRun(ctx.db, dagId, params)
  return { run, paused: await isPaused(ctx, dagId) }
}

/** Refuses work on a paused DAG that would wait for ever (`trigger --wait`, `dags test`), before a run exists. */
export async function refuseIfPaused(ctx: ServiceContext, dagId: string, what: string): Promise<void> {
  if (await isPaused(ctx, dagId))
    throw new ConflictError(`DAG "${dagId}" is paused, so ${what} would never start: \`forge dags unpause ${dagId}\` first`)
}

async function isPaused(ctx: ServiceContext, dagId: string): Promise<boolean> {
  const row = await ctx.db.selectFrom('dag').select('is_paused').where('dag_id', '=', dagId).executeTakeFirst()
  return row?.is_paused ?? false
}

/**
 * Creates the scheduled-style runs whose intervals start in [from, to), all or none, with the conf checked first;
 * returns those created (an interval that already has its run is left as it is). The scheduler runs them in order.
 */
export async function backfillDag(
  ctx: ServiceContext,
  dagId: string,
  opts: { from: Date; to: Date; conf?: Record<string, unknown> },
): Promise<DagRunRow[]> {
  await refreshDags(ctx.db, ctx.config)
  const latest = await getLatestDag(ctx.db, dagId)
  if (!latest) throw noDag(dagId)
  if (!latest.dag.schedule) throw new ConflictError(`DAG "${dagId}" has no schedule, so it has no intervals to backfill; use \`forge trigger\``)
  const params = await checkParams(ctx, dagId, opts.conf)
  const cron = cronFor(latest.dag.schedule, latest.dag.timezone)
  return ctx.db.transaction().execute(async (trx) => {
    const created: DagRunRow[] = []
    for (let iv = intervalStartingAt(cron, opts.from); iv && iv.start < opts.to; iv = intervalStartingAt(cron, iv.end)) {
      const run = await createRun(trx, {
        dag: latest.dag,
        versionId: latest.versionId,
        runType: RunType.Backfill,
        logicalDate: iv.start,
        interval: iv,
        conf: params,
      })
      if (run) created.push(run)
    }
    return created
  })
}
