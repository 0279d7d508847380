import type { ProcessDagFolderResult } from './process-dag-folder.ts'
import type { ImportErrorInfo } from './types.ts'

/** The `forge dags list --json` document (DESIGN §5, a contract: keep the keys exactly). */
export interface DagsListJson {
  dags: Array<{ dag_id: string; file: string; schedule: string | null; tasks: string[] }>
  errors: ImportErrorInfo[]
}

export function dagsListJson(result: ProcessDagFolderResult): DagsListJson {
  return {
    dags: result.dags.map((d) => ({ dag_id: d.dag_id, file: d.fileloc, schedule: d.schedule, tasks: d.tasks.map((t) => t.task_id) })),
    errors: result.errors.map((e) => ({ file: e.file, line: e.line, message: e.message })),
  }
}
