/** defineOperator: the name reaches the serialized DAG, the config slice is checked naming its variable, misuse is refused. */
import { describe, expect, it } from 'vitest'
import { loadOperatorConfig } from '../../../runtime/config.ts'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { DagDefinitionError, defineDag, defineOperator, z } from '../../../runtime/index.ts'
import { MockOperatorEnvironment } from '../../../runtime/testing.ts'

const slice = {
  schema: z.object({ endpoint: z.string().url(), parts: z.coerce.number().int().min(1).default(4) }),
  env: { endpoint: 'TEST_ENDPOINT', parts: 'TEST_PARTS' },
}

const upload = defineOperator({
  name: 'test.upload',
  config: slice,
  settings: { retries: 3 },
  inputs: (o: { prefix: string }) => o,
  run: (ctx) => {
    ctx.log.child({ part: 1 })('sent', { bytes: 10 })
    return { url: `${ctx.config.endpoint}/${ctx.inputs.prefix}`, parts: ctx.config.parts }
  },
})

describe('defineOperator', () => {
  it("puts the operator's name into the serialized DAG, and the DAG's options win over its suggested settings", () => {
    const dag = defineDag({ id: 'op_dag' }, (d) => {
      d.task('up', upload({ prefix: 'a' }), { retries: 1, pool: 'io' })
      d.task('plain', () => 1)
    })
    const tasks = serializeDag(dag, 'op_dag.dag.ts').tasks
    expect(tasks.map((t) => [t.task_id, t.operator, t.retries, t.pool])).toEqual([
      ['up', 'test.upload', 1, 'io'],
      ['plain', null, 0, 'default_pool'],
    ])
    expect(tasks[0]!.inputs).toEqual({ prefix: 'a' })
  })

  it('refuses a factory passed where a task belongs, naming the operator', () => {
    expect(() => defineDag({ id: 'x' }, (d) => void d.task('up', upload as never))).toThrow(
      /task "up".*got operator test\.upload's factory instead of a task: call it/,
    )
  })

  it('refuses names that are not lowercase dotted words', () => {
    for (const name of ['Upload', 'upload', 's3..sync', 's3.Sync', '', 'a.b c']) {
      expect(() => defineOperator({ name, run: () => 1 })).toThrow(DagDefinitionError)
    }
  })

  it('gives the operator only its slice, validated, and logs with the child fields', async () => {
    const env = new MockOperatorEnvironment({ env: { TEST_ENDPOINT: 'https://s3.test', OTHER: 'x' }, taskId: 'up' })
    expect(await env.run(upload({ prefix: 'p' }))).toEqual({ url: 'https://s3.test/p', parts: 4 })
    expect(env.logs[1]).toEqual({ message: 'sent', fields: { dag: 'test_dag', run: 'manual__test', task: 'up', try: 1, part: 1, bytes: 10 } })
  })

  it('a bad slice fails the attempt without retries, naming the variable and its value', async () => {
    const bad = new MockOperatorEnvironment({ env: { TEST_ENDPOINT: 'https://s3.test', TEST_PARTS: '0' } })
    const err = await bad.run(upload({ prefix: 'p' })).catch((e) => e)
    expect(err).toMatchObject({ code: 'task_failure', nonRetryable: true, type: 'ConfigError' })
    expect(err.message).toMatch(/^TEST_PARTS="0": .*>=1.* \(operator test\.upload\)$/)
    const unset = await new MockOperatorEnvironment({ env: {} }).run(upload({ prefix: 'p' })).catch((e) => e)
    expect(unset.message).toMatch(/^TEST_ENDPOINT \(unset\): .* \(operator test\.upload\)$/)
  })

  it('refuses an outlet that is not a dataset URI', async () => {
    const env = new MockOperatorEnvironment({ config: {} })
    const op = defineOperator({ name: 'test.out', run: (ctx) => ctx.outlet('datasets/carla') })
    await expect(env.run(op())).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringContaining('"datasets/carla" is not a dataset URI'),
    })
    expect(env.outlets).toEqual([])
  })
})

describe('loadOperatorConfig', () => {
  it('reads only the variables the slice names, and treats empty as unset', () => {
    expect(loadOperatorConfig('test.upload', slice, { TEST_ENDPOINT: 'https://a.test', TEST_PARTS: '', PATH: '/bin' })).toEqual({
      endpoint: 'https://a.test',
      parts: 4,
    })
  })

  it("refuses to read adas-forge's own settings or a name that is not a variable", () => {
    expect(() => loadOperatorConfig('test.x', { schema: z.object({ url: z.string() }), env: { url: 'FORGE_DATABASE_URL' } }, {})).toThrow(
      /reads FORGE_DATABASE_URL; FORGE_\* variables are adas-forge's own settings/,
    )
    expect(() => loadOperatorConfig('test.x', { schema: z.object({ url: z.string() }), env: { url: 'my-url' } }, {})).toThrow(
      /"my-url", not an environment variable name/,
    )
  })
})
