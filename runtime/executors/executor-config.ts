/**
 * The checks of each executor's per-task settings (`executorConfig`), by executor name: the DAG processor runs them
 * when a file is imported, so a bad setting is an import error, not a failed launch. Each check belongs to its
 * executor and is the one that executor applies at launch; this file only says which is whose. It loads no
 * executor: a check needs its schema, never a client.
 */
import { kubernetesConfigProblem } from './kubernetes/task-config.ts'

/** What is wrong with `raw` as `executorConfig.FIELD MESSAGE (got VALUE)`, or null when nothing is. */
export type ExecutorConfigCheck = (raw: unknown) => string | null

const CHECKS: Readonly<Record<string, ExecutorConfigCheck>> = {
  kubernetes: kubernetesConfigProblem,
}

/** The problem with a task's settings for the executor it names; null for none, or for an executor that reads none. */
export function executorConfigProblem(executor: string | null, raw: unknown): string | null {
  const check = executor && Object.hasOwn(CHECKS, executor) ? CHECKS[executor] : undefined
  return check ? check(raw) : null
}
