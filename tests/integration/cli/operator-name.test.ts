/** An operator's name reaches `forge tasks list --json` and the first line of its attempt's log. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { forge, forgeHome } from '../../helpers/forge-cli.ts'

const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

describe('an operator task through the real forge bin', () => {
  it('shows its operator name in tasks list and opens its log with it', async () => {
    const { dags, env } = forgeHome('forge-operator-')
    // An ES module folder, as `forge init` scaffolds it (the prebuilt runner's CommonJS fallback has its own test).
    writeFileSync(join(dags, 'package.json'), '{ "type": "module" }\n')
    writeFileSync(
      join(dags, 'op_demo.dag.ts'),
      `import { defineDag, defineOperator } from '${RUNTIME}'
const greet = defineOperator({
  name: 'demo.greet',
  inputs: (o: { who: string }) => o,
  run: (ctx) => { ctx.log('hello ' + ctx.inputs.who); return { greeted: ctx.inputs.who } },
})
export default defineDag({ id: 'op_demo' }, (dag) => {
  dag.task('greet', greet({ who: 'world' }))
  dag.task('plain', () => 1, { isolation: 'thread' })
})
`,
    )
    const r = await forge(env, 'trigger', 'op_demo', '--wait')
    expect(r.code, r.stderr).toBe(0)
    const runId = r.stdout.trim().split('\n')[0]!
    const tasks = JSON.parse((await forge(env, 'tasks', 'list', runId, '--json')).stdout) as Array<{ task_id: string; operator: string | null }>
    expect(tasks.map((t) => [t.task_id, t.operator])).toEqual([
      ['greet', 'demo.greet'],
      ['plain', null],
    ])
    const table = (await forge(env, 'tasks', 'list', runId)).stdout.split('\n')
    expect(table[0]).toMatch(/^task_id +map +operator +state /)
    expect(table[1]).toMatch(/^greet +-1 +demo\.greet +success /)
    // The runner's note that it compiled this code (once per code digest) may come before the task's own lines.
    const log = (await forge(env, 'logs', runId, 'greet')).stdout.split('\n').filter((l) => !/ for the prebuilt runner in \d+ ms$/.test(l))
    expect(log[0]).toMatch(/^--- greet try 1: success/)
    expect(log[1]).toMatch(/^\S+Z operator demo\.greet: try 1 of 1 \{"dag":"op_demo","run":"manual__[^"]+","task":"greet","try":1\}$/)
    expect(log[2]).toMatch(/ hello world \{"dag":"op_demo",.*"task":"greet","try":1\}$/)
  }, 180_000)
})
