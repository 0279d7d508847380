import { z } from 'zod'
import { DagDefinitionError } from '../errors.ts'
import type { Ref } from './ref.ts'
import { isRef, makeOut, refTarget, serializeInputs } from './ref.ts'
import type { DagBuilder, DagOptions, TaskHandle, TaskOptions, TaskSettings } from './types.ts'
import { validateGraph } from './validate-graph.ts'

const TASK_ID = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,249}$/

/** One task as declared: its code stays here (only executors call it); everything else is data. */
export interface DeclaredTask {
  id: string
  kind: 'function' | 'shell'
  operator: string | null
  run: ((ctx: never) => unknown) | null
  command: string | null
  env: Record<string, string>
  inputs: unknown
  mapOver: unknown
  upstream: string[]
  settings: TaskSettings
  /** `file:line` of the dag.task call, for error messages. */
  site: string | null
}

export interface DagDefinition<P = unknown> {
  readonly kind: 'adas-forge.dag'
  readonly id: string
  readonly options: DagOptions
  readonly tasks: ReadonlyMap<string, DeclaredTask>
  /** Phantom for params inference. */
  readonly __params?: P
}

export function isDagDefinition(value: unknown): value is DagDefinition {
  return typeof value === 'object' && value !== null && (value as DagDefinition).kind === 'adas-forge.dag'
}

/**
 * Declares a DAG. `build` only wires tasks (no I/O: the file is imported to learn the shape); task functions run
 * later, in an executor, with params and upstream results as inputs.
 */
export function defineDag<S extends z.ZodType = z.ZodObject<{}>>(
  options: DagOptions<S>,
  build: (dag: DagBuilder<z.output<S>>) => void,
): DagDefinition<z.output<S>> {
  if (!options || typeof options.id !== 'string' || !TASK_ID.test(options.id)) {
    throw new DagDefinitionError(`dag id ${JSON.stringify(options?.id)} is invalid: use letters, digits, _ . - (max 250)`)
  }
  const tasks = new Map<string, DeclaredTask>()

  const declare = (id: string, spec: unknown, options: TaskOptions | undefined, mapOver: Ref<unknown> | null): TaskHandle<never> => {
    const site = callSite()
    const where = site ? ` (${site})` : ''
    if (typeof id !== 'string' || !TASK_ID.test(id))
      throw new DagDefinitionError(`task id ${JSON.stringify(id)} is invalid${where}: use letters, digits, _ . - (max 250)`)
    if (tasks.has(id))
      throw new DagDefinitionError(`duplicate task id "${id}"${where}: first declared at ${tasks.get(id)!.site ?? 'an earlier line'}`, {
        taskIds: [id],
      })
    const referenced = new Set<string>()
    let task: DeclaredTask
    const base = { id, upstream: [] as string[], site, mapOver: mapOver ? serializeInputs(mapOver, referenced) : null }
    const factoryOf = typeof spec === 'function' ? (spec as unknown as { operatorName?: unknown }).operatorName : undefined
    if (typeof factoryOf === 'string') {
      // An operator factory typechecks as a task function, but would run as one and return a spec.
      throw new DagDefinitionError(`task "${id}"${where}: got operator ${factoryOf}'s factory instead of a task: call it (\`op()\`, not \`op\`)`)
    } else if (typeof spec === 'function') {
      task = { ...base, kind: 'function', operator: null, run: spec as DeclaredTask['run'], command: null, env: {}, inputs: {}, settings: {} }
    } else if (spec && typeof spec === 'object' && (spec as { kind?: string }).kind === 'shell') {
      const s = spec as { command: string; inputs?: Record<string, unknown>; env?: Record<string, string> }
      if (typeof s.command !== 'string' || !s.command.trim())
        throw new DagDefinitionError(`task "${id}"${where}: shell command must be a non-empty string`)
      task = {
        ...base,
        kind: 'shell',
        operator: 'shell',
        run: null,
        command: s.command,
        env: s.env ?? {},
        inputs: serializeInputs(s.inputs ?? {}, referenced),
        settings: {},
      }
    } else if (spec && typeof spec === 'object' && typeof (spec as { run?: unknown }).run === 'function') {
      const s = spec as { operator?: string; inputs?: unknown; run: DeclaredTask['run']; settings?: TaskSettings }
      task = {
        ...base,
        kind: 'function',
        operator: s.operator ?? null,
        run: s.run,
        command: null,
        env: {},
        inputs: serializeInputs(s.inputs ?? {}, referenced),
        settings: s.settings ?? {},
      }
    } else {
      throw new DagDefinitionError(`task "${id}"${where}: expected a function, { inputs, run } or an operator spec`)
    }
    const { after, ...settings } = options ?? {}
    task.settings = { ...task.settings, ...settings }
    for (const dep of after ?? []) referenced.add(typeof dep === 'string' ? dep : dep.id)
    if (mapOver && !isRef(mapOver)) throw new DagDefinitionError(`task "${id}"${where}: map() needs an upstream output (a ref) to map over`)
    if (mapOver) referenced.add(refTarget(mapOver).task)
    referenced.delete(id) // a self-edge is reported as a cycle below
    if (after?.some((d) => (typeof d === 'string' ? d : d.id) === id)) referenced.add(id)
    task.upstream = [...referenced]
    tasks.set(id, task)
    return { id, out: makeOut(id) } as TaskHandle<never>
  }

  const builder = {
    task: (id: string, spec: unknown, opts?: TaskOptions) => declare(id, spec, opts, null),
    shell: (id: string, command: string, opts?: TaskOptions & { inputs?: Record<string, unknown>; env?: Record<string, string> }) => {
      const { inputs, env, ...rest } = opts ?? {}
      return declare(id, { kind: 'shell', command, inputs, env }, rest, null)
    },
    map: (id: string, over: Ref<unknown>, spec: unknown, opts?: TaskOptions) => declare(id, spec, opts, over),
  } as unknown as DagBuilder<z.output<S>>

  build(builder)
  if (tasks.size === 0) throw new DagDefinitionError(`dag "${options.id}" declares no tasks`)
  validateGraph(options.id, tasks)
  return { kind: 'adas-forge.dag', id: options.id, options: options as DagOptions, tasks }
}

/** The first stack frame outside adas-forge's runtime: where the user called dag.task. */
function callSite(): string | null {
  const stack = new Error().stack?.split('\n').slice(1) ?? []
  for (const line of stack) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(line)
    if (!m) continue
    const file = m[1]!.replace(/^file:\/\//, '')
    if (file.includes('/runtime/dag/') || file.includes('/node_modules/')) continue
    return `${file}:${m[2]}`
  }
  return null
}
