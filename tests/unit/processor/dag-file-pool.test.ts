import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DagFilePool } from '../../../runtime/processor/dag-file-pool.ts'
import { processDagFolder } from '../../../runtime/processor/process-dag-folder.ts'

const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

/**
 * Files share a child in the pool, so each test puts a misbehaving file before good ones in a pool of one child:
 * the good files are then imported after it, in the same child unless the pool replaced or retired it.
 */
describe('DagFilePool', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-dag-pool-'))
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** A DAG file with `top` at its top level; `id` is its name without `.dag.ts`. */
  const writeDag = async (id: string, top = '', body = "dag.task('a', () => 1)") => {
    await writeFile(
      join(dir, `${id}.dag.ts`),
      `import { defineDag } from ${JSON.stringify(RUNTIME)}\n${top}\nexport default defineDag({ id: '${id}' }, (dag) => {\n  ${body}\n})\n`,
    )
    return join(dir, `${id}.dag.ts`)
  }
  const loadAll = async (pool: DagFilePool, files: string[]) => {
    try {
      return await Promise.all(files.map((f) => pool.load(f, dir)))
    } finally {
      await pool.close()
    }
  }
  const ok = (id: string) => ({ ok: true, dag: expect.objectContaining({ dag_id: id, fileloc: `${id}.dag.ts` }) })

  it('imports many files in one child', async () => {
    const files = await Promise.all(['a', 'b', 'c', 'd'].map((id) => writeDag(id)))
    const pool = new DagFilePool({ size: 1, timeoutMs: 20_000 })
    expect(await loadAll(pool, files)).toEqual(['a', 'b', 'c', 'd'].map(ok))
    expect(pool.started).toBe(1)
  })

  it('imports many files in one child outside an ESM package too (tsx compiles them to CommonJS and caches them asynchronously)', async () => {
    await rm(join(dir, 'package.json'))
    const files = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => writeDag(id)))
    const pool = new DagFilePool({ size: 1, timeoutMs: 20_000 })
    expect(await loadAll(pool, files)).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map(ok))
    expect(pool.started).toBe(1)
  })

  it('kills a child that times out, reports its file, and gives the queued files to a fresh child', async () => {
    // Busy for 20 s, not forever, so a child the pool failed to kill still ends (this test then fails on time).
    const busy = await writeDag('busy', 'const until = Date.now() + 20_000\nwhile (Date.now() < until) {}\n')
    const files = [busy, await writeDag('after_1'), await writeDag('after_2')]
    const pool = new DagFilePool({ size: 1, timeoutMs: 3_000 })
    const results = await loadAll(pool, files)
    expect(results).toEqual([
      { ok: false, error: { file: 'busy.dag.ts', line: null, message: expect.stringMatching(/^did not finish importing within 3\.00s \(killed\)/) } },
      ok('after_1'),
      ok('after_2'),
    ])
    expect(pool.started).toBe(2)
  }, 60_000)

  it('replaces a child that a file exits, and blames only that file', async () => {
    const files = [await writeDag('first'), await writeDag('exits', "console.error('bye')\nprocess.exit(4)\n"), await writeDag('last')]
    const pool = new DagFilePool({ size: 1, timeoutMs: 20_000 })
    expect(await loadAll(pool, files)).toEqual([
      ok('first'),
      { ok: false, error: { file: 'exits.dag.ts', line: null, message: 'importing the file exited with code 4 before reporting a result:\nbye' } },
      ok('last'),
    ])
    expect(pool.started).toBe(2)
  })

  it('reports an error thrown from a timer during the import on that file, with its line', async () => {
    const top = "await new Promise((resolve) => {\n  setTimeout(() => { throw new Error('late failure') }, 1)\n  setTimeout(resolve, 5_000)\n})\n"
    const files = [await writeDag('late_throw', top), await writeDag('fine')]
    const pool = new DagFilePool({ size: 1, timeoutMs: 20_000 })
    expect(await loadAll(pool, files)).toEqual([
      { ok: false, error: { file: 'late_throw.dag.ts', line: 3, message: 'Error: late failure' } },
      ok('fine'),
    ])
    expect(pool.started).toBe(2)
  })

  it('retires a child whose file left a timer running, so it cannot act during the next file', async () => {
    // The interval would poison the next file's import if that file ran in the same child.
    const files = [
      await writeDag('leaves_timer', 'setInterval(() => { (globalThis as any).__late = 1 }, 1)\n'),
      await writeDag('next', "if ((globalThis as any).__late) throw new Error('saw the timer')\n"),
    ]
    const pool = new DagFilePool({ size: 1, timeoutMs: 20_000 })
    expect(await loadAll(pool, files)).toEqual([ok('leaves_timer'), ok('next')])
    expect(pool.started).toBe(2)
  })

  it.each([
    ['a global', "(globalThis as any).__forgePoison = 'yes'", "if ((globalThis as any).__forgePoison) throw new Error('saw the poisoned global')"],
    [
      'Object.prototype',
      "(Object.prototype as any).polluted = 'yes'",
      "if (({} as any).polluted) throw new Error('saw a polluted Object.prototype')",
    ],
    [
      'Array.prototype.includes',
      'Array.prototype.includes = function () { return true }',
      "if ([1].includes(2)) throw new Error('saw a patched Array.prototype.includes')",
    ],
    ['process.env', "process.env.FORGE_POOL_POISON = 'yes'", "if (process.env.FORGE_POOL_POISON) throw new Error('saw the poisoned env')"],
  ])('retires a child whose file changed %s, so later files do not see it', async (_what, poison, check) => {
    const files = [await writeDag('corrupts', poison), await writeDag('checks', check)]
    const pool = new DagFilePool({ size: 1, timeoutMs: 20_000 })
    const [, checked] = await loadAll(pool, files)
    expect(checked).toEqual(ok('checks'))
    expect(pool.started).toBe(2)
  })

  it('imports a changed helper afresh on the next processDagFolder call (a pool per call)', async () => {
    await writeFile(join(dir, 'helper.ts'), "export const taskId = 'before'\n")
    await writeDag('uses_helper', "import { taskId } from './helper.ts'", 'dag.task(taskId, () => 1)')
    const tasks = async () => (await processDagFolder(dir, { timeoutMs: 20_000 })).dags.map((d) => d.tasks.map((t) => t.task_id))
    expect(await tasks()).toEqual([['before']])
    await writeFile(join(dir, 'helper.ts'), "export const taskId = 'after'\n")
    expect(await tasks()).toEqual([['after']])
  })
})
