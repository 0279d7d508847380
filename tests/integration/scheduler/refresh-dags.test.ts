import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DagFileCache } from '../../../runtime/processor/dag-file-cache.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

const dagSource = (id: string, body = "dag.task('a', () => 1)") =>
  `import { defineDag } from ${JSON.stringify(RUNTIME)}\n\nexport default defineDag({ id: '${id}' }, (dag) => {\n  ${body}\n})\n`
const BROKEN = "dag.task('a', () => 1)\n  dag.task('b', () => 2, { after: ['nope'] })"

/**
 * A scheduler's refreshes skip unchanged files, yet must leave the database as a full re-import would: a skipped
 * file that still fails keeps its import_error row, a fixed one loses it, a deleted file's DAG is deactivated.
 */
describe.each(STORE_KINDS)('refreshDags with a DagFileCache on %s', (kind) => {
  let t: TestStore
  let dir: string
  beforeAll(async () => {
    t = await openTestStore(kind)
    dir = await mkdtemp(join(tmpdir(), 'forge-refresh-'))
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  })
  afterAll(async () => {
    await t?.cleanup()
    await rm(dir, { recursive: true, force: true })
  })

  const importErrors = () => t.store.db.selectFrom('import_error').select(['filename', 'line', 'message']).orderBy('filename').execute()
  const dags = async () =>
    (await t.store.db.selectFrom('dag').select(['dag_id', 'is_active']).orderBy('dag_id').execute()).map((d) => [d.dag_id, d.is_active])

  it('records the same rows as a full import while importing only what changed', async () => {
    const config = { dagsFolder: dir, dagImportTimeoutMs: 20_000 }
    const cache = new DagFileCache({ fullRefreshIntervalMs: 3_600_000 })
    await writeFile(join(dir, 'kept.dag.ts'), dagSource('kept'))
    await writeFile(join(dir, 'gone.dag.ts'), dagSource('gone'))
    await writeFile(join(dir, 'fixed.dag.ts'), dagSource('fixed', BROKEN))
    await writeFile(join(dir, 'still_broken.dag.ts'), dagSource('still_broken', BROKEN))

    const first = await refreshDags(t.store.db, config, cache)
    expect(first.processed).toHaveLength(4)
    const errorsBefore = await importErrors()
    expect(errorsBefore.map((e) => e.filename)).toEqual(['fixed.dag.ts', 'still_broken.dag.ts'])
    expect(await dags()).toEqual([
      ['gone', true],
      ['kept', true],
    ])

    const unchanged = await refreshDags(t.store.db, config, cache)
    expect(unchanged.processed).toEqual([])
    expect(await importErrors()).toEqual(errorsBefore)
    expect(await dags()).toEqual([
      ['gone', true],
      ['kept', true],
    ])

    await writeFile(join(dir, 'fixed.dag.ts'), dagSource('fixed'))
    await unlink(join(dir, 'gone.dag.ts'))
    const changed = await refreshDags(t.store.db, config, cache)
    expect(changed.processed).toEqual(['fixed.dag.ts'])
    expect(changed.reused).toEqual(['kept.dag.ts', 'still_broken.dag.ts'])
    expect(await importErrors()).toEqual([errorsBefore[1]])
    expect(await dags()).toEqual([
      ['fixed', true],
      ['gone', false],
      ['kept', true],
    ])
  })
})
