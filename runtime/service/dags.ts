import { refreshDags } from '../scheduler/refresh-dags.ts'
import { pausedDags, setDagPaused } from '../store/dag.repo.ts'
import { noDag, type ServiceContext } from './context.ts'

export interface DagListing {
  dags: Array<{ dag_id: string; file: string; schedule: string | null; tasks: string[]; is_paused: boolean }>
  errors: Array<{ file: string; line: number | null; message: string }>
}

/** Processes the DAG folder, records what it found, and lists the DAGs and import errors (`forge dags list`). */
export async function listDags(ctx: ServiceContext): Promise<DagListing> {
  const { dags, errors } = await refreshDags(ctx.db, ctx.config)
  const paused = await pausedDags(
    ctx.db,
    dags.map((d) => d.dag_id),
  )
  return {
    dags: dags.map((d) => ({
      dag_id: d.dag_id,
      file: d.fileloc,
      schedule: d.schedule,
      tasks: d.tasks.map((t) => t.task_id),
      is_paused: paused.has(d.dag_id),
    })),
    errors: errors.map((e) => ({ file: e.file, line: e.line, message: e.message })),
  }
}

/**
 * Pauses or unpauses a DAG, as Airflow does: a paused DAG gets no scheduled runs, its queued runs (manual ones
 * included: triggering still creates them) do not start, and its running runs schedule no further tasks; attempts
 * already running finish and are recorded. Unpausing resumes all of it. Returns whether anything changed.
 */
export async function setPaused(ctx: ServiceContext, dagId: string, paused: boolean): Promise<{ changed: boolean }> {
  // A DAG file added since the last refresh is found by processing the folder once.
  const r = (await setDagPaused(ctx.db, dagId, paused)) ?? (await refreshDags(ctx.db, ctx.config), await setDagPaused(ctx.db, dagId, paused))
  if (!r) throw noDag(dagId)
  return { changed: r.was !== paused }
}
