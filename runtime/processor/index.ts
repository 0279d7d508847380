/**
 * The DAG processor: loads DAG files in child processes so a broken file never stops the others and the
 * scheduler never imports user code. The child entries (pool-child.ts, validate-conf-child.ts) are not
 * exported: they are run, never imported.
 */
export { processDagFile } from './process-dag-file.ts'
export type { ProcessDagFileOptions } from './process-dag-file.ts'
export { processDagFolder } from './process-dag-folder.ts'
export type { ProcessDagFolderOptions, ProcessDagFolderResult } from './process-dag-folder.ts'
export { DagFileCache } from './dag-file-cache.ts'
export type { DagFileCacheOptions } from './dag-file-cache.ts'
export { validateConf } from './validate-conf.ts'
export type { ValidateConfOptions } from './validate-conf.ts'
export { findDagFiles } from './find-dag-files.ts'
export type { ImportErrorInfo, ProcessDagFileResult, ValidateConfResult } from './types.ts'
export { dagsListJson } from './dags-list-json.ts'
export type { DagsListJson } from './dags-list-json.ts'
