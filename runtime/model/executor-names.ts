/**
 * The executors a task may name (`executor` in its settings). A task that names none runs on its scheduler's
 * default executor (FORGE_DEFAULT_EXECUTOR, 'local' unless set), as in Airflow, where a task without `executor`
 * goes to the first configured one. A name outside this list is an import error; a name in it that a scheduler
 * does not run (Kubernetes without FORGE_K8S_IMAGE) waits, and the scheduler says why (docs/executors.md §4).
 */
export const EXECUTOR_NAMES = ['local', 'kubernetes'] as const

export type ExecutorName = (typeof EXECUTOR_NAMES)[number]

export const DEFAULT_EXECUTOR: ExecutorName = 'local'

export function isExecutorName(name: string): name is ExecutorName {
  return (EXECUTOR_NAMES as readonly string[]).includes(name)
}

/** The executor an instance runs on: the one it names, else its scheduler's default. */
export function executorOf(named: string | null | undefined, defaultExecutor: string): string {
  return named ?? defaultExecutor
}
