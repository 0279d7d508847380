import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../runtime/config.ts'
import * as dags from '../../fixtures/dags-runtime/guards.dag.ts'
import { runDagOnce } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const FILE = 'guards.dag.ts'

describe.each(STORE_KINDS)('guards seen on a real run on %s', (kind) => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore(kind)
  })
  afterAll(() => t?.cleanup())

  it('starts a join only after all its upstreams, though it reads one (no early handoff or chain edge)', async () => {
    const r = await runDagOnce(t.store, dags.chainJoin, FILE)
    expect(r.run.state).toBe('success')
    const slow = (await r.xcom('slow')) as { end: number }
    const join = (await r.xcom('join')) as { start: number }
    expect(join.start).toBeGreaterThanOrEqual(slow.end)
  })

  it('caps XCom values at FORGE_XCOM_MAX_BYTES', async () => {
    const { xcomMaxBytes } = loadConfig({ FORGE_XCOM_MAX_BYTES: '100' })
    const r = await runDagOnce(t.store, dags.smallXcom, FILE, {}, { xcomMaxBytes })
    expect(r.ti('fits').state).toBe('success')
    expect(await r.xcom('fits')).toBe('x'.repeat(50))
    expect(r.ti('too_big')).toMatchObject({ state: 'failed', try_number: 1 })
    expect(r.ti('too_big').reason).toContain('is 202 bytes; XCom values are capped at 100 bytes (FORGE_XCOM_MAX_BYTES)')
    expect(await r.xcom('too_big')).toBeUndefined()
  })
})
