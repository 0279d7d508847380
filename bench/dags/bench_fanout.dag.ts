import { defineDag } from '../../runtime/index.ts'

// The width is fixed when the file is processed; the benchmark sets BENCH_FANOUT_N for its processor children.
const N = Number(process.env.BENCH_FANOUT_N ?? 1000)

/** One root, N no-op TypeScript tasks on worker threads, one join: scheduler throughput. */
export default defineDag({ id: 'bench_fanout', maxActiveTasks: 100_000, defaults: { isolation: 'thread' } }, (dag) => {
  const root = dag.task('root', () => null)
  const leaves = Array.from({ length: N }, (_, i) => dag.task(`noop_${i}`, () => null, { after: [root] }))
  dag.task('join', () => null, { after: leaves })
})
