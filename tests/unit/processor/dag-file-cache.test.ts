import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DagFileCache } from '../../../runtime/processor/dag-file-cache.ts'
import { processDagFolder } from '../../../runtime/processor/process-dag-folder.ts'

const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))
const HOUR = 3_600_000

/**
 * Each DAG file written here appends its name to a log file when it is imported, so the tests count real imports
 * in child processes rather than trusting the `processed` list the code under test reports.
 */
describe('processDagFolder with a DagFileCache', () => {
  let dir: string
  let importLog: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-dag-cache-'))
    importLog = join(dir, 'imports.log')
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** A DAG file that logs its import, runs `top` at its top level, and declares `body` (with `dag` in scope). */
  const writeDag = async (name: string, id: string, body = "dag.task('a', () => 1)", top = '') => {
    await mkdir(dirname(join(dir, name)), { recursive: true })
    await writeFile(
      join(dir, name),
      `import { appendFileSync } from 'node:fs'\nimport { defineDag } from ${JSON.stringify(RUNTIME)}\n\n` +
        `appendFileSync(${JSON.stringify(importLog)}, ${JSON.stringify(name)} + '\\n')\n${top}\n\n` +
        `export default defineDag({ id: '${id}' }, (dag) => {\n  ${body}\n})\n`,
    )
  }
  const BROKEN = "dag.task('a', () => 1)\n  dag.task('b', () => 2, { after: ['nope'] })"
  const imports = async (): Promise<string[]> => (await readFile(importLog, 'utf8').catch(() => '')).split('\n').filter(Boolean).sort()
  const refresh = (cache: DagFileCache) => processDagFolder(dir, { timeoutMs: 20_000, cache })
  const shape = (r: Awaited<ReturnType<typeof refresh>>) => ({
    dags: r.dags.map((d) => [d.dag_id, d.fileloc, d.tasks.map((t) => t.task_id)]),
    errors: r.errors.map((e) => [e.file, e.message]),
  })

  it('imports nothing on a second refresh of an unchanged folder, and returns the same DAGs and import errors', async () => {
    await writeDag('good.dag.ts', 'good')
    await writeDag('nested/deep.dag.ts', 'deep')
    await writeDag('broken.dag.ts', 'broken', BROKEN)
    // A child that exits without reporting: its import error is cached too, or it would cost a child every time.
    await writeDag('exits.dag.ts', 'exits', "dag.task('a', () => 1)", 'process.exit(3)')
    const cache = new DagFileCache({ fullRefreshIntervalMs: HOUR })

    const first = await refresh(cache)
    const all = ['broken.dag.ts', 'exits.dag.ts', 'good.dag.ts', 'nested/deep.dag.ts']
    expect(first.processed).toEqual(all)
    expect(first.reused).toEqual([])
    expect(await imports()).toEqual(all)
    expect(shape(first)).toEqual({
      dags: [
        ['good', 'good.dag.ts', ['a']],
        ['deep', 'nested/deep.dag.ts', ['a']],
      ],
      errors: [
        ['broken.dag.ts', expect.stringContaining('depends on unknown task "nope"')],
        ['exits.dag.ts', expect.stringContaining('exited with code 3')],
      ],
    })

    const second = await refresh(cache)
    expect(second.processed).toEqual([])
    expect(second.reused).toEqual(all)
    expect(await imports()).toHaveLength(4)
    expect(second.dags).toEqual(first.dags)
    expect(second.errors).toEqual(first.errors)
  })

  it('imports an edited file again, alone, and returns its new DAG (a same-size edit included)', async () => {
    await writeDag('edited.dag.ts', 'edited', "dag.task('a', () => 1)")
    await writeDag('other.dag.ts', 'other')
    const cache = new DagFileCache({ fullRefreshIntervalMs: HOUR })
    await refresh(cache)

    // Same length, written straight after the import: size and (on a coarse clock) mtime may be unchanged.
    await writeDag('edited.dag.ts', 'edited', "dag.task('z', () => 1)")
    const sameSize = await refresh(cache)
    expect(sameSize.processed).toEqual(['edited.dag.ts'])
    expect(sameSize.reused).toEqual(['other.dag.ts'])
    expect(shape(sameSize).dags).toEqual([
      ['edited', 'edited.dag.ts', ['z']],
      ['other', 'other.dag.ts', ['a']],
    ])

    await writeDag('edited.dag.ts', 'edited', "const z = dag.task('z', () => 1)\n  dag.task('y', () => 2, { after: [z] })")
    const grown = await refresh(cache)
    expect(grown.processed).toEqual(['edited.dag.ts'])
    expect(shape(grown).dags).toEqual([
      ['edited', 'edited.dag.ts', ['z', 'y']],
      ['other', 'other.dag.ts', ['a']],
    ])
    expect(await imports()).toEqual(['edited.dag.ts', 'edited.dag.ts', 'edited.dag.ts', 'other.dag.ts'])
  })

  it('drops the import error of a fixed file and keeps the one of a file that still fails', async () => {
    await writeDag('fixed.dag.ts', 'fixed', BROKEN)
    await writeDag('still_broken.dag.ts', 'still_broken', BROKEN)
    const cache = new DagFileCache({ fullRefreshIntervalMs: HOUR })
    expect((await refresh(cache)).errors.map((e) => e.file)).toEqual(['fixed.dag.ts', 'still_broken.dag.ts'])

    await writeDag('fixed.dag.ts', 'fixed', "const a = dag.task('a', () => 1)\n  dag.task('b', () => 2, { after: [a] })")
    const after = await refresh(cache)
    expect(after.processed).toEqual(['fixed.dag.ts'])
    expect(shape(after)).toEqual({
      dags: [['fixed', 'fixed.dag.ts', ['a', 'b']]],
      errors: [['still_broken.dag.ts', expect.stringContaining('depends on unknown task "nope"')]],
    })
  })

  it('leaves a deleted file out of the result without importing anything', async () => {
    await writeDag('kept.dag.ts', 'kept')
    await writeDag('gone.dag.ts', 'gone')
    await writeDag('gone_broken.dag.ts', 'gone_broken', BROKEN)
    const cache = new DagFileCache({ fullRefreshIntervalMs: HOUR })
    await refresh(cache)

    await unlink(join(dir, 'gone.dag.ts'))
    await unlink(join(dir, 'gone_broken.dag.ts'))
    const after = await refresh(cache)
    expect(after.processed).toEqual([])
    expect(after.reused).toEqual(['kept.dag.ts'])
    expect(shape(after)).toEqual({ dags: [['kept', 'kept.dag.ts', ['a']]], errors: [] })

    // Written back with the same bytes: the forgotten entry must not come back as "unchanged" without an import.
    await writeDag('gone.dag.ts', 'gone')
    const back = await refresh(cache)
    expect(back.processed).toEqual(['gone.dag.ts'])
    expect(shape(back).dags).toEqual([
      ['gone', 'gone.dag.ts', ['a']],
      ['kept', 'kept.dag.ts', ['a']],
    ])
  })

  it('hands a duplicated dag id to the next file when the owner is deleted, from the cache', async () => {
    await writeDag('a_owner.dag.ts', 'shared')
    await writeDag('b_dupe.dag.ts', 'shared', "dag.task('b', () => 1)")
    const cache = new DagFileCache({ fullRefreshIntervalMs: HOUR })
    const first = await refresh(cache)
    expect(shape(first)).toEqual({
      dags: [['shared', 'a_owner.dag.ts', ['a']]],
      errors: [['b_dupe.dag.ts', expect.stringContaining('dag id "shared" is already defined in a_owner.dag.ts')]],
    })

    await unlink(join(dir, 'a_owner.dag.ts'))
    const after = await refresh(cache)
    expect(after.processed).toEqual([])
    expect(shape(after)).toEqual({ dags: [['shared', 'b_dupe.dag.ts', ['b']]], errors: [] })
  })

  describe('full refresh', () => {
    it('imports every file again once the interval has passed, and not before', async () => {
      await writeDag('one.dag.ts', 'one')
      await writeDag('two.dag.ts', 'two', BROKEN)
      let clock = 1_000_000
      const cache = new DagFileCache({ fullRefreshIntervalMs: 60_000, now: () => clock })
      expect((await refresh(cache)).processed).toEqual(['one.dag.ts', 'two.dag.ts'])

      clock += 59_999
      expect((await refresh(cache)).processed).toEqual([])
      expect(await imports()).toEqual(['one.dag.ts', 'two.dag.ts'])

      clock += 1
      const full = await refresh(cache)
      expect(full.processed).toEqual(['one.dag.ts', 'two.dag.ts'])
      expect(full.reused).toEqual([])
      expect(await imports()).toEqual(['one.dag.ts', 'one.dag.ts', 'two.dag.ts', 'two.dag.ts'])

      // The interval counts from the last full refresh, not from the first one.
      clock += 30_000
      expect((await refresh(cache)).processed).toEqual([])
    })

    it('imports a file again at the next refresh when a local module it imports changed, and only that file', async () => {
      const helper = join(dir, 'lib', 'helper.ts')
      await mkdir(dirname(helper), { recursive: true })
      await writeFile(helper, "export const taskId = 'before'\n")
      await writeDag('uses_helper.dag.ts', 'uses_helper', 'dag.task(taskId, () => 1)', "import { taskId } from './lib/helper.ts'")
      await writeDag('other.dag.ts', 'other')
      const cache = new DagFileCache({ fullRefreshIntervalMs: HOUR })
      const first = await refresh(cache)
      expect(shape(first).dags).toEqual([
        ['other', 'other.dag.ts', ['a']],
        ['uses_helper', 'uses_helper.dag.ts', ['before']],
      ])
      expect((await refresh(cache)).processed).toEqual([])

      await writeFile(helper, "export const taskId = 'after'\n")
      const edited = await refresh(cache)
      expect(edited.processed).toEqual(['uses_helper.dag.ts'])
      expect(shape(edited).dags).toEqual([
        ['other', 'other.dag.ts', ['a']],
        ['uses_helper', 'uses_helper.dag.ts', ['after']],
      ])
      const digest = (r: typeof first) => r.dags.find((d) => d.dag_id === 'uses_helper')!.code_digest
      expect(digest(edited)).toMatch(/^[0-9a-f]{64}$/)
      expect(digest(edited)).not.toBe(digest(first))
    })

    it('is how a changed data file read at import reaches the DAG: stale until the next full refresh', async () => {
      const data = join(dir, 'task-id.txt')
      await writeFile(data, 'before')
      await writeDag(
        'reads_data.dag.ts',
        'reads_data',
        `dag.task(readFileSync(${JSON.stringify(data)}, 'utf8'), () => 1)`,
        "import { readFileSync } from 'node:fs'",
      )
      let clock = 0
      const cache = new DagFileCache({ fullRefreshIntervalMs: 60_000, now: () => clock })
      expect(shape(await refresh(cache)).dags).toEqual([['reads_data', 'reads_data.dag.ts', ['before']]])

      await writeFile(data, 'after')
      clock = 1_000
      // The known limit: a file read (not imported) is outside the code digest, so the cached DAG is returned.
      expect(shape(await refresh(cache)).dags).toEqual([['reads_data', 'reads_data.dag.ts', ['before']]])
      clock = 60_000
      expect(shape(await refresh(cache)).dags).toEqual([['reads_data', 'reads_data.dag.ts', ['after']]])
    })

    it('imports every file on every refresh when the interval is 0', async () => {
      await writeDag('only.dag.ts', 'only')
      const cache = new DagFileCache({ fullRefreshIntervalMs: 0 })
      await refresh(cache)
      const again = await refresh(cache)
      expect(again.processed).toEqual(['only.dag.ts'])
      expect(await imports()).toEqual(['only.dag.ts', 'only.dag.ts'])
    })
  })
})
