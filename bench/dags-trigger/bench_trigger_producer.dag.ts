import { defineDag, z } from '../../runtime/index.ts'

/** One task that records a new version of `bench://trigger` per run: the event the consumer is started by. */
export default defineDag({ id: 'bench_trigger_producer', params: z.object({ version: z.string() }), defaults: { isolation: 'thread' } }, (dag) => {
  dag.task('emit', (ctx) => {
    ctx.outlet('bench://trigger', { version: ctx.params.version })
    return ctx.params.version
  })
})
