import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { RUNTIME, forge, forgeHome } from '../../helpers/forge-cli.ts'

describe('forge dags test', () => {
  const { dags, env } = forgeHome('forge-dagstest-')
  beforeAll(() => {
    writeFileSync(
      join(dags, 'passes.dag.ts'),
      `import { defineDag, z } from '${RUNTIME}'
export default defineDag({ id: 'passes', params: z.object({ n: z.number().default(2) }) }, (dag) => {
  const a = dag.task('first', ({ params }) => ({ n: params.n * 10 }), { isolation: 'thread' })
  dag.shell('second', 'echo "got $FORGE_INPUT_N"', { inputs: { n: a.out.n } })
})
`,
    )
    writeFileSync(
      join(dags, 'fails.dag.ts'),
      `import { defineDag } from '${RUNTIME}'
export default defineDag({ id: 'fails', defaults: { retries: 1, retryDelay: '100ms' } }, (dag) => {
  dag.task('boom', () => { throw new Error('kaboom') }, { isolation: 'thread' })
})
`,
    )
  })

  it('runs the DAG now and exits 0 when it succeeds, with a line per attempt', async () => {
    const r = await forge(env, 'dags', 'test', 'passes', '--conf', '{"n": 4}')
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^run manual__/)
    expect(lines.slice(1)).toEqual(['first try 1: success', 'second try 1: success', `${lines[0]}: success`])
  }, 480_000)

  it('exits non-zero when the run fails, with a line for each try', async () => {
    const r = await forge(env, 'dags', 'test', 'fails')
    expect(r.code).toBe(1)
    const lines = r.stdout.trim().split('\n')
    expect(lines.slice(1, 3)).toEqual([
      expect.stringMatching(/^boom try 1: failed \(.*kaboom/),
      expect.stringMatching(/^boom try 2: failed \(.*kaboom/),
    ])
    expect(lines.at(-1)).toMatch(/^run manual__.*: failed$/)
    expect(lines).toHaveLength(4)
  }, 480_000)
})
