import { defineDag, z } from '../../runtime/index.ts'

/** A map over `n` no-op thread tasks and a join that counts their results: expansion and throughput at width. */
export default defineDag({ id: 'bench_wide', maxActiveTasks: 100_000, params: z.object({ n: z.number().int().default(10_000) }) }, (dag) => {
  const plan = dag.task('plan', ({ params }) => Array.from({ length: params.n }, (_, i) => i), { isolation: 'thread' })
  const items = dag.map('item', plan.out, ({ item }) => item, { isolation: 'thread' })
  dag.task('count', { inputs: { items: items.out }, run: ({ inputs }) => inputs.items.length }, { isolation: 'thread' })
})
