import { defineDag } from '../../runtime/index.ts'

const N = Number(process.env.BENCH_ATTEMPT_N ?? 50)

/** A chain of N no-op tasks, each in a task runner process of its own: the cost of one attempt, end to end. */
export default defineDag({ id: 'bench_attempt_chain', defaults: { isolation: 'process' } }, (dag) => {
  let prev: string | null = null
  for (let i = 0; i < N; i++) {
    const id = `link_${i}`
    dag.task(id, () => performance.timeOrigin + performance.now(), { after: prev ? [prev] : [] })
    prev = id
  }
})
