import type { z } from 'zod'
import { DagDefinitionError, ParamsError } from '../errors.ts'
import type { DagDefinition } from './define-dag.ts'
import { defaultFailingItsSchema, unknownKey } from './param-schema.ts'

const fieldOf = (path: readonly PropertyKey[]) => (path.length ? path.map(String).join('.') : '(root)')

/**
 * Applies the DAG's params schema to a run's conf; the error names the first bad field and what was wrong. A key
 * the schema does not know is refused rather than dropped, so a typo cannot fall back to the default silently.
 */
export function parseParams(def: DagDefinition, conf: unknown): unknown {
  const schema = def.options.params as z.ZodType | undefined
  if (!schema) return conf ?? {}
  const extra = unknownKey(schema, conf ?? {})
  if (extra) {
    const field = fieldOf(extra.path)
    const known = extra.known.length ? `known keys there: ${extra.known.join(', ')}` : 'no keys are declared there'
    throw new ParamsError(`dag "${def.id}": param "${field}": unknown key (${known})`, field)
  }
  const parsed = schema.safeParse(conf ?? {})
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  // A strict object's refusal sits on the object; the field people typed is the key itself.
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path
  const field = fieldOf(path)
  const message = issue.code === 'unrecognized_keys' ? 'unknown key (the schema is strict)' : issue.message
  throw new ParamsError(`dag "${def.id}": param "${field}": ${message}`, field)
}

/**
 * Decided when the DAG file is processed, because the scheduler never runs the schema: the params a run without
 * conf gets (every default applied), or why there are none. A default that fails its own schema is an import
 * error, and so is a scheduled DAG whose run without conf cannot be valid (as in Airflow): a scheduled run has no
 * conf to give.
 */
export function defaultParams(def: DagDefinition): { default_params: unknown; params_error: string | null } {
  const schema = def.options.params as z.ZodType | undefined
  if (!schema) return { default_params: {}, params_error: null }
  const bad = defaultFailingItsSchema(schema)
  if (bad) {
    throw new DagDefinitionError(
      `dag "${def.id}": param "${fieldOf(bad.path)}": default ${JSON.stringify(bad.value)} fails its own schema: ${bad.message}`,
    )
  }
  try {
    return { default_params: parseParams(def, {}), params_error: null }
  } catch (err) {
    if (!(err instanceof ParamsError)) throw err
    if (def.options.schedule != null) {
      throw new DagDefinitionError(
        `${err.message}; a scheduled run gets no conf, so every param of a scheduled DAG needs a default (or set schedule: null)`,
      )
    }
    return { default_params: null, params_error: err.message }
  }
}
