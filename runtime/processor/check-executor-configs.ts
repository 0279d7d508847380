import type { DagDefinition } from '../dag/define-dag.ts'
import type { SerializedDag } from '../dag/serialize.ts'
import { DagDefinitionError } from '../errors.ts'
import { executorConfigProblem } from '../executors/executor-config.ts'

/**
 * Checks each task's `executorConfig` against the executor it names, once the DAG is serialized (defaults merged):
 * the first bad setting is the file's import error, naming the DAG, the task and its line, the field and the value.
 * A task naming no executor is not checked: which one runs it is the scheduler's choice.
 */
export function checkExecutorConfigs(def: DagDefinition, dag: SerializedDag): void {
  for (const task of dag.tasks) {
    const problem = executorConfigProblem(task.executor, task.executor_config)
    if (!problem) continue
    const site = def.tasks.get(task.task_id)?.site
    throw new DagDefinitionError(`dag "${dag.dag_id}" task "${task.task_id}"${site ? ` (${site})` : ''}: ${problem}`, { taskIds: [task.task_id] })
  }
}
