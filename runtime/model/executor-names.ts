/** The executors a task may name (`executor` in its settings); 'local' when it names none. */
export const EXECUTOR_NAMES = ['local'] as const

export type ExecutorName = (typeof EXECUTOR_NAMES)[number]

export const DEFAULT_EXECUTOR: ExecutorName = 'local'

export function isExecutorName(name: string): name is ExecutorName {
  return (EXECUTOR_NAMES as readonly string[]).includes(name)
}
