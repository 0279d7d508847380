import type { ForgeConfig } from '../config.ts'
import type { SerializedDag } from '../dag/serialize.ts'
import { processDagFolder } from '../processor/process-dag-folder.ts'
import { syncDags, type ImportErrorInfo } from '../store/dag.repo.ts'
import type { Db } from '../store/database.ts'

/** Processes the DAG folder in child processes and records the result; returns it for the CLI to print. */
export async function refreshDags(db: Db, config: Pick<ForgeConfig, 'dagsFolder' | 'dagImportTimeoutMs'>): Promise<{ dags: SerializedDag[]; errors: ImportErrorInfo[] }> {
  const result = await processDagFolder(config.dagsFolder, { timeoutMs: config.dagImportTimeoutMs })
  await syncDags(db, result.dags, result.errors)
  return result
}
