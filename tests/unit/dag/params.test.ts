import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineDag } from '../../../runtime/dag/define-dag.ts'
import { parseParams } from '../../../runtime/dag/params.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { DagDefinitionError, ParamsError } from '../../../runtime/errors.ts'

const dagWith = (params: z.ZodType, schedule: string | null = null) => defineDag({ id: 'p', schedule, params }, (d) => void d.task('t', () => 1))

function paramsErrorOf(fn: () => unknown): ParamsError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ParamsError) return err
    throw err
  }
  throw new Error('expected a ParamsError')
}

describe('params checked when the DAG file is processed', () => {
  it('stores the parsed defaults and no error when every param has a valid default', () => {
    const s = serializeDag(
      dagWith(z.object({ n: z.number().default(2), t: z.object({ b: z.string().default('x') }).default({ b: 'y' }) }), '@daily'),
      'p.dag.ts',
    )
    expect(s.default_params).toEqual({ n: 2, t: { b: 'y' } })
    expect(s.params_error).toBeNull()
  })

  it('refuses a default that fails its own constraints, naming the field (zod 4 does not parse defaults)', () => {
    expect(() => serializeDag(dagWith(z.object({ n: z.number().min(5).default(1) })), 'p.dag.ts')).toThrow(DagDefinitionError)
    expect(() => serializeDag(dagWith(z.object({ n: z.number().min(5).default(1) })), 'p.dag.ts')).toThrow(
      /param "n": default 1 fails its own schema: .*>=5/,
    )
  })

  it('names a nested field whose default fails, also inside an object default', () => {
    const nested = z.object({ target: z.object({ prefix: z.string().startsWith('runs/').default('tmp') }) })
    expect(() => serializeDag(dagWith(nested), 'p.dag.ts')).toThrow(/param "target.prefix": default "tmp"/)
    const objectDefault = z.object({ target: z.object({ prefix: z.string().startsWith('runs/') }).default({ prefix: 'tmp' }) })
    expect(() => serializeDag(dagWith(objectDefault), 'p.dag.ts')).toThrow(/param "target.prefix": default "tmp"/)
  })

  it('refuses a scheduled DAG with a required param that has no default, naming the field', () => {
    expect(() => serializeDag(dagWith(z.object({ bucket: z.string() }), '0 2 * * *'), 'p.dag.ts')).toThrow(
      /param "bucket": .*every param of a scheduled DAG needs a default/,
    )
  })

  it('keeps a manual-only DAG with a required param, recording why a run without conf cannot be valid', () => {
    const s = serializeDag(dagWith(z.object({ bucket: z.string() })), 'p.dag.ts')
    expect(s.default_params).toBeNull()
    expect(s.params_error).toMatch(/param "bucket"/)
  })
})

describe('parseParams refuses conf keys the schema does not know', () => {
  const schema = z.object({ rows: z.number().default(5), target: z.object({ prefix: z.string().default('runs/a') }).default({ prefix: 'runs/a' }) })

  it('names an unknown top-level key instead of dropping it and falling back to the default', () => {
    const err = paramsErrorOf(() => parseParams(dagWith(schema), { rwos: 10 }))
    expect(err.field).toBe('rwos')
    expect(err.message).toMatch(/param "rwos": unknown key.*rows, target/)
  })

  it('names an unknown nested key by its dotted path', () => {
    expect(paramsErrorOf(() => parseParams(dagWith(schema), { target: { prefx: 'runs/b' } })).field).toBe('target.prefx')
  })

  it('names the key a strict schema refuses', () => {
    const err = paramsErrorOf(() => parseParams(dagWith(z.strictObject({ a: z.number().default(1) })), { b: 2 }))
    expect(err.field).toBe('b')
  })

  it('keeps extra keys when the schema passes them through (z.looseObject / .passthrough())', () => {
    expect(parseParams(dagWith(z.looseObject({ a: z.number().default(1) })), { b: 2 })).toEqual({ a: 1, b: 2 })
    expect(parseParams(dagWith(z.object({ a: z.number().default(1) }).passthrough()), { b: 2 })).toEqual({ a: 1, b: 2 })
  })

  it('still applies defaults and accepts known keys', () => {
    expect(parseParams(dagWith(schema), { rows: 1 })).toEqual({ rows: 1, target: { prefix: 'runs/a' } })
  })
})
