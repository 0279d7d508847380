import { describe, expect, expectTypeOf, it } from 'vitest'
import { defineDag, z } from '../../../runtime/index.ts'

// These assertions are checked by `tsc` (npm run typecheck, and .ci/run): a wrongly typed ref must not compile.
describe('typed DAG wiring', () => {
  it('infers params and upstream result types through refs', () => {
    const def = defineDag({ id: 'typed', params: z.object({ n: z.number().default(2) }) }, (dag) => {
      const a = dag.task('a', ({ params }) => {
        expectTypeOf(params.n).toEqualTypeOf<number>()
        return { rows: [1, 2], name: 'x' }
      })
      dag.task('b', {
        inputs: { rows: a.out.rows, name: a.out.name },
        run: ({ inputs }) => {
          expectTypeOf(inputs.rows).toEqualTypeOf<number[]>()
          expectTypeOf(inputs.name).toEqualTypeOf<string>()
          // @ts-expect-error rows is number[], not string
          inputs.rows.toUpperCase()
          return inputs.rows.length
        },
      })
      const m = dag.map('m', a.out.rows, ({ item }) => {
        expectTypeOf(item).toEqualTypeOf<number>()
        return String(item)
      })
      expectTypeOf(m.out).toMatchTypeOf<{ readonly __type?: string[] }>()
      // @ts-expect-error a.out has no field "missing"
      void a.out.missing
    })
    expect(def.tasks.get('b')!.upstream).toEqual(['a'])
  })
})
