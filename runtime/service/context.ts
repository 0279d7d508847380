import type { ForgeConfig } from '../config.ts'
import { NotFoundError } from '../errors.ts'
import type { Db, DagRunRow } from '../store/database.ts'
import { findRun } from '../store/run.repo.ts'

/**
 * What every service function needs: the store and the configuration. The CLI and the API each build one; the
 * service composes store functions and model rules, and reports outcomes as typed errors (NotFoundError,
 * ConflictError, ParamsError) that each caller maps to its own answer (exit codes, HTTP statuses).
 */
export interface ServiceContext {
  db: Db
  config: Pick<ForgeConfig, 'dagsFolder' | 'dagImportTimeoutMs'>
}

export async function requireRun(db: Db, runId: string): Promise<DagRunRow> {
  const run = await findRun(db, runId)
  if (!run) throw new NotFoundError(`no run "${runId}": see \`forge runs list\``)
  return run
}

export function noDag(dagId: string): NotFoundError {
  return new NotFoundError(`no DAG "${dagId}": run \`forge dags list\` to see the DAGs and import errors`)
}
