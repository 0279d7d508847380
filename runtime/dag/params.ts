import type { z } from 'zod'
import { ParamsError } from '../errors.ts'
import type { DagDefinition } from './define-dag.ts'

/** Applies the DAG's params schema to a run's conf; the error names the first bad field and what was wrong. */
export function parseParams(def: DagDefinition, conf: unknown): unknown {
  const schema = def.options.params as z.ZodType | undefined
  if (!schema) return conf ?? {}
  const parsed = schema.safeParse(conf ?? {})
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  const field = issue.path.length ? issue.path.join('.') : '(root)'
  throw new ParamsError(`dag "${def.id}": param "${field}": ${issue.message}`, field)
}
