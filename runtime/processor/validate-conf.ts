import { fileURLToPath } from 'node:url'
import { dagFileRef } from './dag-file-ref.ts'
import { childFailure } from './child-failure.ts'
import { runChild } from './run-child.ts'
import type { ValidateConfResult } from './types.ts'

const VALIDATE_CONF_CHILD = fileURLToPath(new URL('./validate-conf-child.ts', import.meta.url))

export interface ValidateConfOptions {
  /** The child is killed after this long (importing the file is most of the work). */
  timeoutMs: number
  /** The DAGs folder, for file names in messages (default: the file's own folder). */
  root?: string
}

/**
 * Checks a run's conf against the DAG's params schema before a run is created (DESIGN §3): `params` has every
 * default applied; a bad conf names the first bad `field` (a dotted path, `(root)` for the conf as a whole).
 * When the file itself cannot be loaded, or defines another dag, `field` is `(dag)`.
 */
export async function validateConf(file: string, dagId: string, conf: unknown, opts: ValidateConfOptions): Promise<ValidateConfResult> {
  const ref = dagFileRef(file, opts.root)
  let confJson: string
  try {
    confJson = JSON.stringify(conf ?? {})
  } catch (err) {
    return { ok: false, field: '(root)', message: `conf is not JSON: ${(err as Error).message}` }
  }
  const outcome = await runChild(VALIDATE_CONF_CHILD, [ref.abs, ref.root, dagId, confJson], opts.timeoutMs)
  if (outcome.kind === 'reported') {
    const m = outcome.message
    if (m.kind === 'params') return m.result
    if (m.kind === 'error') return { ok: false, field: '(dag)', message: `cannot load ${where(m.error)}: ${m.error.message}` }
    return { ok: false, field: '(dag)', message: `unexpected ${m.kind} result from the params check` }
  }
  const error = childFailure(ref.rel, outcome, opts.timeoutMs)
  return { ok: false, field: '(dag)', message: `cannot load ${error.file}: ${error.message}` }
}

function where(error: { file: string; line: number | null }): string {
  return error.line === null ? error.file : `${error.file}:${error.line}`
}
