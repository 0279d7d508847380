import type { ForgeConfig } from '../config.ts'
import type { DagFileCache } from '../processor/dag-file-cache.ts'
import { processDagFolder, type ProcessDagFolderResult } from '../processor/process-dag-folder.ts'
import { syncDags } from '../store/dag.repo.ts'
import type { Db } from '../store/database.ts'

/**
 * Processes the DAG folder in child processes and records the result; returns it for the CLI to print. With a
 * cache (a running scheduler's), files unchanged since the last refresh are not imported again; the whole result,
 * cached and fresh, is still recorded, so the database is the same as after importing every file.
 */
export async function refreshDags(
  db: Db,
  config: Pick<ForgeConfig, 'dagsFolder' | 'dagImportTimeoutMs'>,
  cache?: DagFileCache,
): Promise<ProcessDagFolderResult> {
  const result = await processDagFolder(config.dagsFolder, { timeoutMs: config.dagImportTimeoutMs, cache })
  await syncDags(db, result.dags, result.errors)
  return result
}
