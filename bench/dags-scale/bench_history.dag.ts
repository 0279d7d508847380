import { defineDag } from '../../runtime/index.ts'

/** The 200-task DAG whose finished runs the scale benchmark inserts as history; it is never run itself. */
export default defineDag({ id: 'bench_history', defaults: { isolation: 'thread' } }, (dag) => {
  let prev: string | null = null
  for (let i = 0; i < 200; i++) {
    dag.task(`link_${i}`, () => null, { after: prev ? [prev] : [] })
    prev = `link_${i}`
  }
})
