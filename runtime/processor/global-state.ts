/**
 * Child side: what a DAG file could change in a process that later files would see, captured before and after
 * each file so a pool child that was changed is retired instead of reused (runtime/README.md, "DAG file pool").
 *
 * Watched: every own property of globalThis, of each global object and constructor and of its prototype (so
 * `Array.prototype.map = …`, `Error.prepareStackTrace = …` or `globalThis.fetch = …` is seen), a few intrinsics
 * not reachable by name (iterator and typed-array prototypes), the process object, process.env and the working
 * directory. Properties are compared by identity, so a replaced function counts and a deep edit inside a plain
 * object does not. Module state (a helper's mutable export) is not watched: that is what a fresh pool per
 * refresh bounds.
 */

type Watched = Array<[name: string, target: object]>

export interface GlobalState {
  objects: Map<string, unknown[]>
  env: string
  cwd: string
}

/**
 * Node defines many globals (TextEncoder, crypto, fetch…) as getters that replace themselves with a plain value
 * on first use; touching each one once, before any file runs, keeps a file that merely uses them from looking
 * like one that changed them.
 */
export function settleLazyGlobals(): void {
  for (const key of Reflect.ownKeys(globalThis)) {
    const d = Object.getOwnPropertyDescriptor(globalThis, key)
    if (d?.get) {
      try {
        void (globalThis as Record<PropertyKey, unknown>)[key]
      } catch {
        // A global that throws when read is left as it is; it is compared as an accessor.
      }
    }
  }
}

export function captureGlobalState(): GlobalState {
  const objects = new Map<string, unknown[]>()
  for (const [name, target] of watched()) objects.set(name, shape(target))
  return { objects, env: JSON.stringify(Object.entries(process.env)), cwd: process.cwd() }
}

/** The first thing that differs, named for a person (`Array.prototype`, `process.env`), or null. */
export function changedGlobalState(before: GlobalState, after: GlobalState): string | null {
  if (before.env !== after.env) return 'process.env'
  if (before.cwd !== after.cwd) return 'the working directory'
  for (const [name, now] of after.objects) {
    const then = before.objects.get(name)
    if (!then) return name
    if (then.length !== now.length || now.some((v, i) => !Object.is(v, then[i]))) return name
  }
  for (const name of before.objects.keys()) if (!after.objects.has(name)) return name
  return null
}

function watched(): Watched {
  const list: Watched = [['globalThis', globalThis]]
  const seen = new Set<object>([globalThis])
  const add = (name: string, target: unknown) => {
    if ((typeof target !== 'object' && typeof target !== 'function') || target === null || seen.has(target)) return
    seen.add(target)
    list.push([name, target])
  }
  for (const key of Reflect.ownKeys(globalThis)) {
    const value = Object.getOwnPropertyDescriptor(globalThis, key)?.value
    const name = String(key)
    add(name, value)
    if (typeof value === 'function') add(`${name}.prototype`, Object.getOwnPropertyDescriptor(value, 'prototype')?.value)
  }
  const arrayIterator = Object.getPrototypeOf([][Symbol.iterator]())
  add('%ArrayIteratorPrototype%', arrayIterator)
  add('%IteratorPrototype%', Object.getPrototypeOf(arrayIterator))
  add('%TypedArray%', Object.getPrototypeOf(Int8Array))
  add('%TypedArray%.prototype', Object.getPrototypeOf(Int8Array.prototype))
  add(
    '%AsyncFunction%.prototype',
    Object.getPrototypeOf(async () => {}),
  )
  add(
    '%GeneratorFunction%.prototype',
    Object.getPrototypeOf(function* () {}),
  )
  return list
}

/** Keys, descriptor parts and the prototype of one object, flat, for an identity comparison. */
function shape(target: object): unknown[] {
  const out: unknown[] = [Object.getPrototypeOf(target), Object.isExtensible(target)]
  const descriptors = Object.getOwnPropertyDescriptors(target)
  for (const key of Reflect.ownKeys(descriptors)) {
    const d = descriptors[key as keyof typeof descriptors]!
    out.push(key, d.value, d.get, d.set, d.writable, d.enumerable, d.configurable)
  }
  return out
}
