import { defineDag } from '../../runtime/index.ts'

/** The workload measured while the history grows: a root, eight no-op thread tasks, a join. */
export default defineDag({ id: 'bench_small', defaults: { isolation: 'thread' } }, (dag) => {
  const root = dag.task('root', () => null)
  const mid = Array.from({ length: 8 }, (_, i) => dag.task(`mid_${i}`, () => null, { after: [root] }))
  dag.task('join', () => null, { after: mid })
})
