import { defineDag, z } from 'adas-forge'

/** A small extract → transform → load chain that shows refs, params, a shell task and retries. */
export default defineDag(
  {
    id: 'example_etl',
    description: 'Function and shell tasks passing typed results',
    schedule: '0 * * * *',
    timezone: 'Europe/Berlin',
    params: z.object({ rows: z.number().int().min(1).default(5) }),
    defaults: { retries: 1, retryDelay: '1s' },
  },
  (dag) => {
    const extract = dag.task('extract', ({ params }) => ({ values: Array.from({ length: params.rows }, (_, i) => i + 1) }), { isolation: 'thread' })
    const sum = dag.task('transform', {
      inputs: { values: extract.out.values },
      run: ({ inputs }) => ({ total: inputs.values.reduce((a, b) => a + b, 0) }),
    })
    dag.shell('load', 'echo "loading total=$FORGE_INPUT_TOTAL"; echo "$FORGE_INPUT_TOTAL"', { inputs: { total: sum.out.total } })
  },
)
