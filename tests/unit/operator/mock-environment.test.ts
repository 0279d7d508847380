/** The mock operator context records what an operator did and plays the part of the next try. */
import { readdirSync, existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MockOperatorEnvironment } from 'adas-forge/testing'
import { defineOperator, z } from 'adas-forge/operator'
import { defineDag } from 'adas-forge'

const counter = defineOperator({
  name: 'test.count',
  details: z.object({ next: z.number().int() }),
  inputs: (o: { to: number }) => o,
  run: async (ctx) => {
    const from = ctx.previousDetails?.next ?? 0
    for (let i = from; i < ctx.inputs.to; i++) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      ctx.progress(i + 1, ctx.inputs.to, 'items')
      await ctx.heartbeat({ next: i + 1 })
    }
    writeFileSync(join(ctx.scratchDir, 'work.txt'), 'scratch')
    ctx.outlet('file:///data/counted', { to: ctx.inputs.to })
    return { from, key: ctx.idempotencyKey }
  },
})

describe('MockOperatorEnvironment', () => {
  it('records heartbeats with their details, progress, log lines and outlets, and gives a scratch folder', async () => {
    const env = new MockOperatorEnvironment({ inputs: { to: 3 }, taskId: 'count' })
    const beats: unknown[] = []
    env.on('heartbeat', (d) => beats.push(d))
    const res = await env.run(counter({ to: 3 }))
    expect(res).toEqual({ from: 0, key: 'test_dag/manual__test/count/-1' })
    expect(env.heartbeats).toEqual([{ next: 1 }, { next: 2 }, { next: 3 }])
    expect(beats).toEqual(env.heartbeats)
    expect(env.progress).toEqual([
      { done: 1, total: 3, unit: 'items' },
      { done: 2, total: 3, unit: 'items' },
      { done: 3, total: 3, unit: 'items' },
    ])
    expect(env.logs[0]).toEqual({
      message: 'operator test.count: try 1 of 1',
      fields: { dag: 'test_dag', run: 'manual__test', task: 'count', try: 1 },
    })
    expect(env.outlets).toEqual([{ uri: 'file:///data/counted', extra: { to: 3 } }])
    expect(readdirSync(env.scratchDir)).toEqual(['work.txt'])
    env.cleanup()
    expect(existsSync(env.scratchDir)).toBe(false)
  })

  it('retry() is the next try: previousDetails are the last heartbeat details, so the operator resumes', async () => {
    const first = new MockOperatorEnvironment({ inputs: { to: 5 }, maxTries: 3 })
    first.on('heartbeat', (d: { next: number }) => d.next === 2 && first.abort(new Error('timed out')))
    await expect(first.run(counter({ to: 5 }))).rejects.toThrow('timed out')
    expect(first.lastDetails).toEqual({ next: 2 })
    const second = first.retry()
    expect(second.context).toMatchObject({ tryNumber: 2, maxTries: 3, previousDetails: { next: 2 } })
    expect(await second.run(counter({ to: 5 }))).toMatchObject({ from: 2 })
    expect(second.progress.map((p) => p.done)).toEqual([3, 4, 5])
    expect(second.logs[0]!.message).toBe('operator test.count: try 2 of 3')
  })

  it('previous details that do not fit the schema are dropped with a log line', async () => {
    const env = new MockOperatorEnvironment({ inputs: { to: 1 }, previousDetails: { next: 'two' } })
    expect(await env.run(counter({ to: 1 }))).toMatchObject({ from: 0 })
    expect(env.logs.some((l) => l.message.includes('do not fit'))).toBe(true)
  })

  it('stores heartbeat details as JSON would, so what JSON drops does not reach the next try', async () => {
    const env = new MockOperatorEnvironment()
    await env.run(async (ctx) => {
      await ctx.heartbeat({ at: new Date('2026-01-02T00:00:00Z'), gone: undefined, set: new Set([1]) })
      await ctx.heartbeat()
    })
    expect(env.heartbeats).toEqual([{ at: '2026-01-02T00:00:00.000Z', set: {} }, undefined])
    expect(env.lastDetails).toEqual({ at: '2026-01-02T00:00:00.000Z', set: {} })
  })

  it('a mapped task: an item makes map index 0 and the idempotency key carries it', async () => {
    const env = new MockOperatorEnvironment({ item: { n: 1 }, taskId: 'm' })
    expect(env.context).toMatchObject({ mapIndex: 0, item: { n: 1 }, idempotencyKey: 'test_dag/manual__test/m/0' })
  })
})

describe('MockOperatorEnvironment inputs', () => {
  it('runs a spec with its own inputs unless inputs are given, and refuses unresolved refs', async () => {
    const echo = defineOperator({ name: 'test.echo', inputs: (o: { v: unknown }) => o, run: (ctx) => ctx.inputs.v })
    expect(await new MockOperatorEnvironment().run(echo({ v: 'own' }))).toBe('own')
    expect(await new MockOperatorEnvironment({ inputs: { v: 'given' } }).run(echo({ v: 'own' }))).toBe('given')
    let ref: unknown
    defineDag({ id: 'refs' }, (d) => {
      ref = d.task('up', () => ({ v: 1 })).out.v
      d.task('down', echo({ v: ref }))
    })
    await expect(new MockOperatorEnvironment().run(echo({ v: [ref] }))).rejects.toThrow(/hold refs to upstream outputs/)
  })
})

describe('heartbeat details against the schema', () => {
  it('refuses details the next try could not use, naming the field', async () => {
    const env = new MockOperatorEnvironment()
    const op = defineOperator({ name: 'test.bad', details: z.object({ next: z.number() }), run: (ctx) => ctx.heartbeat({ next: 'soon' } as never) })
    await expect(env.run(op())).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringMatching(/^operator test\.bad: heartbeat details do not fit its details schema: next: /),
    })
    expect(env.heartbeats).toEqual([])
  })
})
