import { describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { MockOperatorEnvironment } from '../../../runtime/testing.ts'
import { augmentShardsOperator } from '../../../operators/augment/augment-task.ts'
import { RecipeError } from '../../../operators/augment/recipe.ts'
import { writeSyntheticShard } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

const objects = [
  { cls: 'Car' as const, shape: 'rect' as const, box: { x1: 10, y1: 10, x2: 30, y2: 30 }, rgb: [200, 30, 30] as [number, number, number] },
]

describe('augment.shards, the SDK operator', () => {
  it('takes the recipe from the named DAG param, augments every shard and declares each one as an outlet', async () => {
    const parent = await tempDir()
    const a = await writeSyntheticShard(parent, { name: 'a', width: 64, height: 48, frames: 2, objects })
    const b = await writeSyntheticShard(parent, { name: 'b', width: 64, height: 48, frames: 3, objects })
    const progress: number[] = []
    const env = new MockOperatorEnvironment({ params: { augment: { seed: 5, ops: { flip: { p: 1 } } } } })
    env.on('progress', (p: { done: number }) => progress.push(p.done))
    const spec = augmentShardsOperator({ shards: [{ dir: a.dir }, { dir: b.dir }], recipeParam: 'augment' })
    expect(spec.operator).toBe('augment.shards')
    const summary = await env.run(spec)
    expect(summary).toMatchObject({ frames: 5, labels: 5, dropped: 0 })
    const dirs = summary.shards.map((s) => s.dir)
    expect(dirs).toEqual([path.join(parent, 'augmented', 'a'), path.join(parent, 'augmented', 'b')])
    expect(env.outlets.map((o) => o.uri)).toEqual(dirs.map((d) => pathToFileURL(d).href))
    expect(env.outlets[1]!.extra).toMatchObject({ shard: 'b', frames: 3, source: b.dir })
    const manifest = JSON.parse(await readFile(path.join(dirs[0]!, 'manifest.json'), 'utf8'))
    expect(manifest.augment.seed).toBe(5)
    expect(manifest.frames[0].ops).toEqual(['flip'])
    expect(progress.at(-1)).toBe(5)
  })

  it('resumes on the next try: the frames the aborted try finished are kept', async () => {
    const a = await writeSyntheticShard(await tempDir(), { width: 64, height: 48, frames: 10, objects })
    const env = new MockOperatorEnvironment({ params: { augment: { seed: 5, ops: { flip: { p: 0.5 } } } } })
    env.on('progress', (p: { done: number }) => p.done === 3 && env.abort(new Error('timed out')))
    const spec = augmentShardsOperator({ shards: [{ dir: a.dir }], recipeParam: 'augment' })
    await expect(env.run(spec)).rejects.toThrow(/timed out/)
    const retry = env.retry()
    const summary = await retry.run(spec)
    expect(summary.frames).toBe(10)
    expect(summary.shards[0]!.resumed).toBeGreaterThanOrEqual(3)
    expect(summary.shards[0]!.resumed).toBeLessThan(10)
  })

  it('fails on a bad recipe in the param, naming the field, and declares nothing', async () => {
    const a = await writeSyntheticShard(await tempDir(), { width: 32, height: 24, objects: [] })
    const env = new MockOperatorEnvironment({ params: { augment: { ops: { blur: { sigma: [2, 1] } } } } })
    const err = await env.run(augmentShardsOperator({ shards: [{ dir: a.dir }], recipeParam: 'augment' })).catch((e) => e)
    expect(err).toBeInstanceOf(RecipeError)
    expect(err.field).toBe('ops.blur.sigma')
    expect(env.outlets).toEqual([])
  })
})
