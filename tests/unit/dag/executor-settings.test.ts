import { describe, expect, it } from 'vitest'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { DagDefinitionError } from '../../../runtime/errors.ts'

describe('the executor of a task is part of the serialized task', () => {
  it("names no executor unless the task or the DAG does: it runs on the scheduler's default one", () => {
    const s = serializeDag(
      defineDag({ id: 'e' }, (d) => void d.task('t', () => 1)),
      'e.dag.ts',
    )
    expect(s.tasks[0]).toMatchObject({ executor: null, executor_config: {} })
  })

  it('keeps the executor and its settings, from the task or the DAG defaults', () => {
    const def = defineDag({ id: 'e', defaults: { executorConfig: { cpu: '2' } } }, (d) => {
      d.task('a', () => 1, { executor: 'local' })
      d.task('b', () => 1, { executorConfig: { gpu: 1 } })
    })
    const s = serializeDag(def, 'e.dag.ts')
    expect(s.tasks.find((t) => t.task_id === 'a')).toMatchObject({ executor: 'local', executor_config: { cpu: '2' } })
    expect(s.tasks.find((t) => t.task_id === 'b')).toMatchObject({ executor: null, executor_config: { gpu: 1 } })
  })

  it('refuses an executor no one provides, naming the task and the name', () => {
    const def = defineDag({ id: 'e' }, (d) => void d.task('gpu_job', () => 1, { executor: 'kubernetez' }))
    expect(() => serializeDag(def, 'e.dag.ts')).toThrow(DagDefinitionError)
    expect(() => serializeDag(def, 'e.dag.ts')).toThrow(
      /task "gpu_job".*option "executor" names no known executor "kubernetez" \(known: local, kubernetes\)/,
    )
  })
})
