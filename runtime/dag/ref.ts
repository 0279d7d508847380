/**
 * Typed references to an upstream task's output. `handle.out.rows` is a `Ref<number>` when the task returns
 * `{ rows: number }`; passing it as an input creates the edge and, at launch, resolves to the stored value.
 */

const REF = Symbol.for('adas-forge.ref')

export interface RefTarget {
  task: string
  path: string[]
}

export interface Ref<T> {
  readonly [REF]: RefTarget
  /** Phantom: carries the referenced type for inference only. */
  readonly __type?: T
}

/** A reference that can be dotted into: `out.a.b` for object results, `out[0]` is not supported (use a task). */
export type Out<T> = Ref<T> & (T extends readonly unknown[] ? unknown : T extends object ? { readonly [K in keyof T]-?: Out<T[K]> } : unknown)

/** The value an input object takes once every Ref in it is resolved. */
export type Resolved<I> =
  I extends Ref<infer T>
    ? T
    : I extends readonly (infer E)[]
      ? Resolved<E>[]
      : I extends Date
        ? I
        : I extends object
          ? { [K in keyof I]: Resolved<I[K]> }
          : I

export function makeOut<T>(task: string, path: string[] = []): Out<T> {
  const target: RefTarget = { task, path }
  return new Proxy(Object.create(null) as object, {
    get(_obj, key) {
      if (key === REF) return target
      if (typeof key === 'symbol') return undefined
      // Promise resolution and JSON probing must not mistake a ref for a thenable or a toJSON host.
      if (key === 'then' || key === 'toJSON') return undefined
      return makeOut(task, [...path, key])
    },
    has(_obj, key) {
      return key === REF
    },
  }) as Out<T>
}

export function isRef(value: unknown): value is Ref<unknown> {
  return typeof value === 'object' && value !== null && REF in (value as object)
}

export function refTarget(ref: Ref<unknown>): RefTarget {
  return ref[REF]
}

/** The JSON form of a ref inside serialized inputs. */
export interface SerializedRef {
  $ref: RefTarget
}

export function isSerializedRef(value: unknown): value is SerializedRef {
  return typeof value === 'object' && value !== null && '$ref' in value && Object.keys(value).length === 1
}

/** Replaces every Ref in an input tree with `{ $ref }` and reports the tasks referenced. */
export function serializeInputs(value: unknown, seen: Set<string>): unknown {
  if (isRef(value)) {
    const t = refTarget(value)
    seen.add(t.task)
    return { $ref: { task: t.task, path: [...t.path] } } satisfies SerializedRef
  }
  if (Array.isArray(value)) return value.map((v) => serializeInputs(v, seen))
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = serializeInputs(v, seen)
    return out
  }
  if (typeof value === 'function') throw new TypeError('a task input cannot be a function; pass data or a ref')
  return value
}

/** Resolves `{ $ref }` nodes with `lookup(task)` (the upstream's stored result), following each ref's path. */
export function resolveInputs(value: unknown, lookup: (task: string) => unknown): unknown {
  if (isSerializedRef(value)) {
    let v = lookup(value.$ref.task)
    for (const key of value.$ref.path) v = v == null ? undefined : (v as Record<string, unknown>)[key]
    return v
  }
  if (Array.isArray(value)) return value.map((v) => resolveInputs(v, lookup))
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = resolveInputs(v, lookup)
    return out
  }
  return value
}
