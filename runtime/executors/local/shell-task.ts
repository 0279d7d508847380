// Shell tasks run in runtime/worker/ (the task runner); the executor's task child imports them from there.
export { runShellTask } from '../../worker/shell-task.ts'
