import type { Executor } from '../executors/executor.ts'
import { executorOf } from '../model/executor-names.ts'
import type { ExecutorWant } from '../store/claim.ts'
import type { SchedulerState } from './state.ts'

/**
 * The executors of one scheduler by name: the default one (for instances that name none) and the others, each
 * claimed for, launched on, asked and adopted for only with the instances that name it.
 */
export function executorsByName(main: Executor, more: readonly Executor[] = []): Map<string, Executor> {
  const byName = new Map<string, Executor>()
  for (const e of [main, ...more]) {
    if (byName.has(e.name) && byName.get(e.name) !== e) throw new Error(`two executors are named "${e.name}": a scheduler runs one of each`)
    byName.set(e.name, e)
  }
  return byName
}

/** The executor an instance or attempt runs on here (undefined: this scheduler does not run the one it names). */
export function executorFor(s: SchedulerState, named: string | null): Executor | undefined {
  return s.executors.get(executorOf(named, s.defaultExecutor))
}

/** How much each executor can start now, asked of all at once. */
export async function executorWants(s: SchedulerState): Promise<ExecutorWant[]> {
  return Promise.all([...s.executors.values()].map(async (e) => ({ executor: e.name, capacity: await e.capacity() })))
}

/** Groups keyed items by the executor they run on here; those naming an executor this scheduler lacks are left out. */
export function groupByExecutor<T>(s: SchedulerState, items: readonly T[], named: (t: T) => string | null): Map<Executor, T[]> {
  const out = new Map<Executor, T[]>()
  for (const item of items) {
    const e = executorFor(s, named(item))
    if (!e) continue
    const list = out.get(e)
    if (list) list.push(item)
    else out.set(e, [item])
  }
  return out
}
