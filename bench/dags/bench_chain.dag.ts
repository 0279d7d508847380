import { defineDag } from '../../runtime/index.ts'

const N = Number(process.env.BENCH_CHAIN_N ?? 200)

/** A chain of N no-op tasks that record when they ran: per-edge latency (successor start − predecessor end). */
export default defineDag({ id: 'bench_chain', defaults: { isolation: 'thread' } }, (dag) => {
  let prev: string | null = null
  for (let i = 0; i < N; i++) {
    const id = `link_${i}`
    dag.task(
      id,
      () => {
        const t = performance.timeOrigin + performance.now()
        return { start: t, end: performance.timeOrigin + performance.now() }
      },
      { after: prev ? [prev] : [] },
    )
    prev = id
  }
})
