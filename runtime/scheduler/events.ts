import type { ForgeConfig } from '../config.ts'
import type { AttemptSpec, Executor } from '../executors/executor.ts'
import type { Store } from '../store/connect.ts'

export type SchedulerEvent =
  | { type: 'attempt:finished'; spec: AttemptSpec; ok: boolean; reason: string | null; durationMs: number }
  | { type: 'attempt:progress'; spec: AttemptSpec; done: number; total: number | null; unit: string }
  | { type: 'run:finished'; dagId: string; runId: string; state: string }
  | { type: 'scheduler:error'; error: Error }

export interface SchedulerOptions {
  config: ForgeConfig
  store: Store
  /** The default executor: it runs the tasks that name none (FORGE_DEFAULT_EXECUTOR). */
  executor: Executor
  /** Further executors, for the tasks that name them (`executor: 'kubernetes'`); one per name. */
  executors?: Executor[]
  /** Re-processes the DAG folder (the scheduler itself never imports DAG files). */
  refreshDags?: () => Promise<void>
  onEvent?: (e: SchedulerEvent) => void
  /** Work on this run only and create no scheduled runs (`forge dags test`, `npm start`, `trigger --wait`). */
  onlyRunPk?: number
}
