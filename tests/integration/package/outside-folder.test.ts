/**
 * A DAG folder outside any project that installed adas-forge (no package.json, no node_modules): its files import
 * `adas-forge` and `adas-forge/operators/carla`, and the running installation's loader resolves both, in the DAG
 * processor's children and in the thread and process a task runs in.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { forge, forgeHome } from '../../helpers/forge-cli.ts'

const DAG = (id: string) => `import { defineDag, z } from 'adas-forge'
import { carlaGenerate } from 'adas-forge/operators/carla'

export default defineDag({ id: '${id}', params: z.object({ n: z.number().default(2) }) }, (dag) => {
  const a = dag.task('in_thread', ({ params }) => ({ n: params.n * 10, operator: typeof carlaGenerate }), { isolation: 'thread' })
  dag.task('in_process', { inputs: { n: a.out.n, operator: a.out.operator }, run: ({ inputs }) => {
    if (inputs.operator !== 'function') throw new Error('the operator did not load in the thread: ' + inputs.operator)
    return { doubled: inputs.n * 2, operator: typeof carlaGenerate }
  }, isolation: 'process' })
})
`

describe('a DAG folder outside any project that installed adas-forge', () => {
  const { dags, env } = forgeHome('forge-outside-')
  beforeAll(() => {
    // No package.json above it: tsx loads this file as CommonJS.
    writeFileSync(join(dags, 'plain.dag.ts'), DAG('plain'))
    // An ES module folder: the ESM resolve hook's path.
    mkdirSync(join(dags, 'esm'))
    writeFileSync(join(dags, 'esm/package.json'), '{"type": "module"}')
    writeFileSync(join(dags, 'esm/module.dag.ts'), DAG('module'))
  })

  it('lists DAGs that import adas-forge and an operator by subpath, in CommonJS and ES module folders', async () => {
    const r = await forge(env, 'dags', 'list', '--json')
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { dags: Array<{ dag_id: string; file: string }>; errors: unknown[] }
    expect(out.errors).toEqual([])
    expect(out.dags.map((d) => [d.dag_id, d.file])).toEqual([
      ['module', 'esm/module.dag.ts'],
      ['plain', 'plain.dag.ts'],
    ])
  }, 240_000)

  it('runs such a DAG: its thread task and process task both import the package', async () => {
    const r = await forge(env, 'dags', 'test', 'plain')
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines.slice(1)).toEqual(['in_thread try 1: success', 'in_process try 1: success', `${lines[0]}: success`])
  }, 240_000)
})
