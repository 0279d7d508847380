import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { dagsListJson } from '../../../runtime/processor/dags-list-json.ts'
import { processDagFolder } from '../../../runtime/processor/process-dag-folder.ts'

const GOOD = fileURLToPath(new URL('../../fixtures/dags-good/', import.meta.url))
const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

const dagSource = (id: string, body = "dag.task('a', () => 1)") =>
  `import { defineDag } from ${JSON.stringify(RUNTIME)}\n\nexport default defineDag({ id: '${id}' }, (dag) => {\n  ${body}\n})\n`

describe('processDagFolder', () => {
  it('loads every good DAG, nested folders included, sorted by file', async () => {
    const result = await processDagFolder(GOOD, { timeoutMs: 10_000 })
    // Checked through the `forge dags list --json` shape, which is a contract (DESIGN §5).
    expect(dagsListJson(result)).toEqual({
      dags: [
        { dag_id: 'good_etl', file: 'etl.dag.ts', schedule: '0 * * * *', tasks: ['extract', 'transform', 'load'] },
        { dag_id: 'nested_deep', file: 'nested/deep.dag.ts', schedule: '@hourly', tasks: ['first', 'second'] },
        { dag_id: 'noisy', file: 'noisy.dag.ts', schedule: null, tasks: ['only'] },
      ],
      errors: [],
    })
    expect(result.dags[0]!.tags).toEqual(['data-platform'])
  })

  describe('in a scratch folder', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'forge-processor-'))
      // Like a user's dags folder inside a `"type": "module"` project; one test below removes it on purpose.
      await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
    })
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('loads a file again once it is fixed', async () => {
      const file = join(dir, 'flaky.dag.ts')
      await writeFile(file, dagSource('flaky', "dag.task('a', () => 1)\n  dag.task('b', () => 2, { after: ['nope'] })"))
      const broken = await processDagFolder(dir, { timeoutMs: 10_000 })
      expect(broken.dags).toEqual([])
      expect(broken.errors).toEqual([{ file: 'flaky.dag.ts', line: 5, message: expect.stringContaining('depends on unknown task "nope"') }])

      await writeFile(file, dagSource('flaky', "const a = dag.task('a', () => 1)\n  dag.task('b', () => 2, { after: [a] })"))
      const fixed = await processDagFolder(dir, { timeoutMs: 10_000 })
      expect(fixed.errors).toEqual([])
      expect(fixed.dags.map((d) => [d.dag_id, d.tasks.map((t) => t.task_id)])).toEqual([['flaky', ['a', 'b']]])
    })

    it('skips node_modules, dotfiles, dot-folders and files that are not *.dag.ts', async () => {
      for (const sub of ['node_modules/pkg', '.git', 'lib']) await mkdir(join(dir, sub), { recursive: true })
      const poison = "throw new Error('must not be processed')\n"
      await writeFile(join(dir, 'node_modules/pkg/x.dag.ts'), poison)
      await writeFile(join(dir, '.git/y.dag.ts'), poison)
      await writeFile(join(dir, '.editor-backup.dag.ts'), poison)
      await writeFile(join(dir, 'lib/helper.ts'), poison)
      await writeFile(join(dir, 'lib/real.dag.ts'), dagSource('real'))
      const result = await processDagFolder(dir, { timeoutMs: 10_000 })
      expect(result).toMatchObject({ errors: [], dags: [{ dag_id: 'real', fileloc: 'lib/real.dag.ts' }] })
    })

    it('loads a DAG file outside an ESM package (compiled to CommonJS by tsx)', async () => {
      await rm(join(dir, 'package.json'))
      await writeFile(join(dir, 'cjs.dag.ts'), dagSource('cjs_dag'))
      const result = await processDagFolder(dir, { timeoutMs: 10_000 })
      expect(result).toMatchObject({ errors: [], dags: [{ dag_id: 'cjs_dag', fileloc: 'cjs.dag.ts' }] })
    })

    it('returns an empty result for an empty folder', async () => {
      expect(await processDagFolder(dir, { timeoutMs: 10_000 })).toEqual({ dags: [], errors: [], processed: [], reused: [] })
    })
  })
})
