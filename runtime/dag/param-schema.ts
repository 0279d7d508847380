import type { z } from 'zod'

/**
 * Walks a params schema through zod 4's definitions (`_zod.def`), for the two checks zod does not make: defaults
 * are returned without being parsed, and `z.object()` drops unknown keys silently. Objects, arrays and the
 * wrappers (default, optional, nullable, pipe, …) are walked; unions, records and intersections are left to zod.
 */
interface Def {
  type: string
  innerType?: z.ZodType
  in?: z.ZodType
  shape?: Record<string, z.ZodType>
  catchall?: z.ZodType
  element?: z.ZodType
  defaultValue?: unknown
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def
const WRAPPERS = new Set(['optional', 'nullable', 'readonly', 'nonoptional', 'catch', 'prefault'])
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export interface BadDefault {
  path: string[]
  value: unknown
  message: string
}

/** The first `.default(v)` whose `v` fails the schema it defaults (`z.number().min(5).default(1)`), if any. */
export function defaultFailingItsSchema(schema: z.ZodType, path: string[] = []): BadDefault | null {
  const d = defOf(schema)
  if (d.type === 'default') {
    const value = d.defaultValue
    const parsed = d.innerType!.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      // An object's default names the field inside it that fails, with that field's value.
      const at = issue.path.reduce<unknown>((v, k) => (isRecord(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[k] : undefined), value)
      return { path: [...path, ...issue.path.map(String)], value: at, message: issue.message }
    }
    return defaultFailingItsSchema(d.innerType!, path)
  }
  if (WRAPPERS.has(d.type)) return defaultFailingItsSchema(d.innerType!, path)
  if (d.type === 'pipe') return defaultFailingItsSchema(d.in!, path)
  if (d.type === 'array') return defaultFailingItsSchema(d.element!, [...path, '*'])
  if (d.type === 'object') {
    for (const [key, field] of Object.entries(d.shape!)) {
      const bad = defaultFailingItsSchema(field, [...path, key])
      if (bad) return bad
    }
  }
  return null
}

export interface UnknownKey {
  path: string[]
  known: string[]
}

/**
 * The first key of `value` that a plain `z.object()` would drop. Objects that chose what to do with extra keys
 * keep their choice: `z.looseObject()`/`.passthrough()` keeps them, `z.strictObject()` lets zod refuse them.
 */
export function unknownKey(schema: z.ZodType, value: unknown, path: string[] = []): UnknownKey | null {
  const d = defOf(schema)
  if (d.type === 'default' || WRAPPERS.has(d.type)) return unknownKey(d.innerType!, value, path)
  if (d.type === 'pipe') return unknownKey(d.in!, value, path)
  if (d.type === 'array' && Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unknownKey(d.element!, item, [...path, String(i)])
      if (found) return found
    }
  }
  if (d.type === 'object' && isRecord(value)) {
    const shape = d.shape!
    for (const [key, v] of Object.entries(value)) {
      if (Object.hasOwn(shape, key)) {
        const found = unknownKey(shape[key]!, v, [...path, key])
        if (found) return found
      } else if (d.catchall === undefined) return { path: [...path, key], known: Object.keys(shape) }
    }
  }
  return null
}
