import { describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { decideRun, type TiView } from '../../../runtime/model/decide-run.ts'
import type { TaskState } from '../../../runtime/model/states.ts'

const dag = serializeDag(
  defineDag({ id: 'd' }, (d) => {
    const a = d.task('a', () => [1, 2, 3])
    const b = d.task('b', { inputs: { x: a.out }, run: () => 1 })
    const c = d.task('c', { inputs: { y: b.out }, run: () => 1 })
    d.task('cleanup', () => 1, { after: [c], triggerRule: 'all_done' })
    d.map('m', a.out, ({ item }) => item)
  }),
  'd.dag.ts',
)

const now = new Date('2026-01-01T00:00:00Z')
let nextId = 1
const ti = (task_id: string, state: TaskState | null, extra: Partial<TiView> = {}): TiView => ({
  id: nextId++,
  task_id,
  map_index: -1,
  state,
  run_after: null,
  ...extra,
})

describe('decideRun', () => {
  it('schedules roots and leaves the rest waiting', () => {
    const tis = [ti('a', null), ti('b', null), ti('c', null), ti('cleanup', null), ti('m', null)]
    const d = decideRun(dag, tis, now)
    expect(d.updates.map((u) => [tis.find((t) => t.id === u.id)!.task_id, u.to])).toEqual([['a', 'scheduled']])
    expect(d.runState).toBe('running')
  })

  it('propagates upstream_failed down a whole branch in one pass, then runs the all_done cleanup', () => {
    const tis = [ti('a', 'failed'), ti('b', null), ti('c', null), ti('cleanup', null), ti('m', null)]
    const d = decideRun(dag, tis, now)
    const to = Object.fromEntries(d.updates.map((u) => [tis.find((t) => t.id === u.id)!.task_id, u.to]))
    expect(to).toEqual({ b: 'upstream_failed', c: 'upstream_failed', cleanup: 'scheduled', m: 'upstream_failed' })
  })

  it("leaves a cleared mapped task's other instances to its expansion, and gives them its verdict otherwise", () => {
    const cleared = () => [ti('m', null), ti('m', null, { map_index: 1 }), ti('m', null, { map_index: 2 })]
    const ready = [ti('a', 'success'), ti('b', 'running'), ti('c', null), ti('cleanup', null), ...cleared()]
    const d = decideRun(dag, ready, now)
    expect(d.expand.map((e) => e.task_id)).toEqual(['m'])
    expect(d.updates.filter((u) => ready.find((t) => t.id === u.id)!.task_id === 'm')).toEqual([])
    const failed = [ti('a', 'failed'), ti('b', null), ti('c', null), ti('cleanup', null), ...cleared()]
    const f = decideRun(dag, failed, now)
    expect(f.updates.filter((u) => failed.find((t) => t.id === u.id)!.task_id === 'm').map((u) => u.to)).toEqual([
      'upstream_failed',
      'upstream_failed',
      'upstream_failed',
    ])
  })

  it('asks for expansion of a mapped task once its upstream succeeded', () => {
    const tis = [ti('a', 'success'), ti('b', 'running'), ti('c', null), ti('cleanup', null), ti('m', null)]
    const d = decideRun(dag, tis, now)
    expect(d.expand.map((e) => e.task_id)).toEqual(['m'])
  })

  it('moves a due up_for_retry to scheduled and reports when the next one is due', () => {
    const later = new Date(now.getTime() + 5000)
    const tis = [
      ti('a', 'up_for_retry', { run_after: new Date(now.getTime() - 1) }),
      ti('b', 'up_for_retry', { run_after: later }),
      ti('c', null),
      ti('cleanup', null),
      ti('m', null),
    ]
    const d = decideRun(dag, tis, now)
    expect(d.updates.filter((u) => u.to === 'scheduled').map((u) => u.id)).toEqual([tis[0]!.id])
    expect(d.nextWakeAt).toEqual(later)
  })

  it('judges a finished run by its leaves: a failed middle task with a successful all_done leaf still fails via m', () => {
    const done = [ti('a', 'success'), ti('b', 'failed'), ti('c', 'upstream_failed'), ti('cleanup', 'success'), ti('m', 'success', { map_index: 0 })]
    expect(decideRun(dag, done, now).runState).toBe('success')
    const failedLeaf = [ti('a', 'success'), ti('b', 'success'), ti('c', 'success'), ti('cleanup', 'success'), ti('m', 'failed', { map_index: 0 })]
    expect(decideRun(dag, failedLeaf, now).runState).toBe('failed')
  })
})
