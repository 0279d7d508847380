/**
 * `dvcAdd(...)`: the task that versions a dataset folder (operator 'dvc.add'). Inputs may be refs to upstream
 * outputs (`{ path: aug.out.dir }`); they are checked when the task runs, so a bad one fails it non-retryably.
 */
import type { FunctionTaskSpec, Ref } from '../../runtime/index.ts'
import type { DvcAddInput } from './options.ts'
import { versionDataset, type DatasetVersion, type DvcEnv } from './version-dataset.ts'

export type DvcAddInputs = { [K in keyof DvcAddInput]: DvcAddInput[K] | Ref<NonNullable<DvcAddInput[K]>> }

export function dvcAdd(
  inputs: DvcAddInputs,
  env: Pick<DvcEnv, 'remoteStore' | 'hasher' | 'dvcAvailable'> = {},
): FunctionTaskSpec<DvcAddInputs, DatasetVersion> {
  return {
    kind: 'function',
    operator: 'dvc.add',
    inputs,
    run: (ctx) =>
      versionDataset(ctx.inputs as DvcAddInput, { ...env, log: ctx.log, progress: (d, t, u) => ctx.progress(d, t, u), signal: ctx.signal }),
  }
}
