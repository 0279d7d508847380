/**
 * adas-forge's authoring API: what a DAG file imports.
 *
 * ```ts
 * import { defineDag, z } from '../runtime/index.ts'
 * export default defineDag({ id: 'hello', schedule: '@daily', params: z.object({ n: z.number().default(3) }) }, (dag) => {
 *   const count = dag.task('count', ({ params }) => ({ n: params.n }))
 *   dag.task('double', { inputs: { n: count.out.n }, run: ({ inputs }) => inputs.n * 2 })
 * })
 * ```
 *
 * Operators (reusable tasks with a config slice, heartbeat details and outlets) are written with `defineOperator`;
 * see runtime/operator.ts and docs/operator-sdk.md.
 */
export { z } from 'zod'
export { defineDag, isDagDefinition } from './dag/define-dag.ts'
export type { DagDefinition, DeclaredTask } from './dag/define-dag.ts'
export type { Ref, Out, Resolved } from './dag/ref.ts'
export type {
  DagBuilder,
  DagOptions,
  FunctionTaskSpec,
  ShellTaskSpec,
  TaskContext,
  TaskFn,
  TaskHandle,
  TaskLogger,
  TaskOptions,
  TaskSettings,
} from './dag/types.ts'
export { TaskFailure, DagDefinitionError, ParamsError, ConfigError, ForgeError, coerceError } from './errors.ts'
export type { Duration } from './duration.ts'
export { safeSegment, insideFolder, UnsafePathError } from './paths.ts'
export { defineOperator, definePlugin } from './operator.ts'
export type { ConfigSlice, ForgePlugin, MainJob, OperatorContext, OperatorFactory, OperatorLogger, PluginContext } from './operator.ts'
