import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { validateConf } from '../../../runtime/processor/validate-conf.ts'

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url))
const ETL = fixture('dags-good/etl.dag.ts')
const opts = { timeoutMs: 10_000, root: fixture('dags-good') }

describe('validateConf', () => {
  it('applies the defaults to an empty conf', async () => {
    expect(await validateConf(ETL, 'good_etl', {}, opts)).toEqual({ ok: true, params: { rows: 5 } })
  })

  it('keeps valid values and fills nested defaults', async () => {
    const result = await validateConf(ETL, 'good_etl', { rows: 2, target: { prefix: 'runs/a' } }, opts)
    expect(result).toEqual({ ok: true, params: { rows: 2, target: { bucket: 'datasets', prefix: 'runs/a' } } })
  })

  it('names a bad top-level field', async () => {
    const result = await validateConf(ETL, 'good_etl', { rows: 'many' }, opts)
    expect(result).toEqual({ ok: false, field: 'rows', message: expect.stringMatching(/param "rows": .*number/) })
  })

  it('names a bad nested field by its dotted path', async () => {
    const result = await validateConf(ETL, 'good_etl', { target: { prefix: 'tmp/x' } }, opts)
    expect(result).toMatchObject({ ok: false, field: 'target.prefix' })
  })

  it('says when the file defines another dag', async () => {
    expect(await validateConf(ETL, 'other', {}, opts)).toEqual({
      ok: false,
      field: '(dag)',
      message: 'etl.dag.ts defines dag "good_etl", not "other"',
    })
  })

  it('says when the file cannot be loaded, with its line', async () => {
    const result = await validateConf(fixture('dags-broken/cycle.dag.ts'), 'cycle', {}, { timeoutMs: 10_000 })
    expect(result).toEqual({ ok: false, field: '(dag)', message: expect.stringMatching(/^cannot load cycle\.dag\.ts:4: .*has a cycle/) })
  })
})
