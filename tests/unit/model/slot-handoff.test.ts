import { describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag, taskOf } from '../../../runtime/dag/serialize.ts'
import { slotSuccessor } from '../../../runtime/model/slot-handoff.ts'

describe('a slot handoff stays on one executor', () => {
  const dag = serializeDag(
    defineDag({ id: 'handoff_executors' }, (d) => {
      const a = d.task('a', () => 1)
      const b = d.task('b', () => 2, { after: [a] })
      const c = d.task('c', () => 3, { after: [b], executor: 'kubernetes' })
      d.task('e', () => 4, { after: [c], executor: 'kubernetes' })
    }),
    'handoff-executors.dag.ts',
  )
  const successorOf = (id: string) => slotSuccessor(dag, taskOf(dag, id)!, -1)?.task_id ?? null

  it('hands a slot to a successor on the same executor', () => {
    expect(successorOf('a')).toBe('b')
    expect(successorOf('c')).toBe('e')
  })

  it("never hands a local slot to a Kubernetes task: that task needs the other executor's capacity", () => {
    expect(successorOf('b')).toBeNull()
  })
})
