import { describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { augmentShard } from '../../../operators/augment/augment-shard.ts'
import type { RecipeInput } from '../../../operators/augment/recipe.ts'
import { writeSyntheticShard } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

/** Every op, each on about half the frames. */
const recipe = (seed: number): RecipeInput => ({
  seed,
  ops: {
    flip: { p: 0.5 },
    crop: { p: 0.5, scale: [0.6, 0.9], ratio: [0.8, 1.25] },
    affine: { p: 0.5, rotate: [-10, 10], scale: [0.9, 1.1] },
    brightness: { p: 0.5, range: [-0.2, 0.2] },
    contrast: { p: 0.5, range: [0.8, 1.2] },
    gamma: { p: 0.5, range: [0.7, 1.4] },
    blur: { p: 0.5, sigma: [0.5, 1.5] },
    noise: { p: 0.5, sigma: [2, 10] },
    jpeg: { p: 0.5, quality: [40, 90] },
    fog: { p: 0.5, density: [0.1, 0.5] },
    rain: { p: 0.5, drops: [20, 80] },
  },
})

async function run(src: string, seed: number, workers: number): Promise<{ manifest: string; files: Map<string, Buffer> }> {
  const res = await augmentShard({ dir: src, outDir: await tempDir(), recipe: recipe(seed) }, { workers })
  const manifest = await readFile(path.join(res.dir, 'manifest.json'), 'utf8')
  const files = new Map<string, Buffer>()
  for (const f of JSON.parse(manifest).files as Array<{ path: string }>) files.set(f.path, await readFile(path.join(res.dir, f.path)))
  return { manifest, files }
}

describe('the same seed', () => {
  it('gives byte-identical shards with one worker and with several', async () => {
    const src = await writeSyntheticShard(await tempDir(), {
      width: 160,
      height: 96,
      frames: 8,
      semantic: true,
      objects: [
        { cls: 'Car', shape: 'disc', box: { x1: 20, y1: 30, x2: 70, y2: 70 }, rgb: [200, 30, 30] },
        { cls: 'Pedestrian', shape: 'rect', box: { x1: 100, y1: 10, x2: 120, y2: 80 }, rgb: [30, 200, 40] },
      ],
    })
    const one = await run(src.dir, 7, 1)
    const three = await run(src.dir, 7, 3)
    expect(three.manifest).toBe(one.manifest)
    // 8 frames × (rgb + semantic + KITTI) + coco.json.
    expect(one.files.size).toBe(8 * 3 + 1)
    for (const [p, body] of one.files) expect(three.files.get(p)!.equals(body), p).toBe(true)
    // Every op fired on some frame, so the comparison covers each code path.
    const fired = new Set(JSON.parse(one.manifest).frames.flatMap((f: { ops: string[] }) => f.ops))
    expect([...fired].sort()).toEqual(['affine', 'blur', 'brightness', 'contrast', 'crop', 'flip', 'fog', 'gamma', 'jpeg', 'noise', 'rain'])
    // A different seed changes the frames.
    const other = await run(src.dir, 8, 2)
    expect(other.manifest).not.toBe(one.manifest)
    expect([...one.files].filter(([p, b]) => p.endsWith('.jpg') && !other.files.get(p)!.equals(b)).length).toBeGreaterThan(0)
  })
})
