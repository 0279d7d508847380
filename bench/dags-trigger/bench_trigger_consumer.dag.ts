import { defineDag, onDatasets } from '../../runtime/index.ts'

/** Scheduled on `bench://trigger`; its first task returns when it started (epoch ms, sub-millisecond). */
export default defineDag({ id: 'bench_trigger_consumer', schedule: onDatasets('bench://trigger'), defaults: { isolation: 'thread' } }, (dag) => {
  dag.task('first', () => performance.timeOrigin + performance.now())
})
