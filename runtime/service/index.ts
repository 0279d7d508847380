/**
 * The service layer: what the CLI and the REST API do, as functions over a store (DESIGN §2: cli/api → service →
 * store). Outcomes that are the caller's to report are typed errors: NotFoundError, ConflictError, ParamsError.
 */
export { requireRun, type ServiceContext } from './context.ts'
export { backfillDag, checkParams, refuseIfPaused, triggerDag, type Triggered } from './trigger.ts'
export { listDags, setPaused, type DagListing } from './dags.ts'
export { clearRun, type ClearResult } from './clear.ts'
export { markTask, type MarkResult, type MarkState } from './mark.ts'
export { listRuns, listTasks, readLogs } from './reads.ts'
