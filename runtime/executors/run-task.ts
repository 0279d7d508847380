// The task's code runs in runtime/worker/ (the task runner); executors that run it in their own threads import it from there.
export { runFunctionTask, type TaskHooks, type TaskOutcome } from '../worker/run-task.ts'
