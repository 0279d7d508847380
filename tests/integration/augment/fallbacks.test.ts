import { describe, expect, it } from 'vitest'
import { augmentShard, type AugmentEnv } from '../../../operators/augment/augment-shard.ts'
import { FramePool } from '../../../operators/augment/frame-pool.ts'
import type { RecipeInput } from '../../../operators/augment/recipe.ts'
import { expectSameFiles, shardFiles } from './helpers/shard-files.ts'
import { writeSyntheticShard } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

/** The ops that run in the WebAssembly passes (crop, flip, resize, both tones, blur), each on most frames. */
const recipe = (format: 'png' | 'jpeg'): RecipeInput => ({
  seed: 11,
  ops: {
    flip: { p: 0.5 },
    crop: { p: 0.8, scale: [0.5, 0.9], ratio: [0.8, 1.25] },
    brightness: { p: 0.7, range: [-0.2, 0.2] },
    contrast: { p: 0.7, range: [0.7, 1.3] },
    gamma: { p: 0.4, range: [0.7, 1.4] },
    blur: { p: 0.7, sigma: [0.5, 2] },
  },
  output: { format, width: 120, height: 80 },
})

const objects = [
  { cls: 'Car' as const, shape: 'disc' as const, box: { x1: 20, y1: 16, x2: 70, y2: 50 }, rgb: [200, 30, 30] as [number, number, number] },
]

/** Runs the shard and returns its files and what the core logged (a pool given in `env` logs to its own). */
async function run(src: string, format: 'png' | 'jpeg', env: AugmentEnv): Promise<{ files: Map<string, Buffer>; logs: string[] }> {
  const logs: string[] = []
  const log = Object.assign((m: string) => void logs.push(m), { child: () => log }) as unknown as AugmentEnv['log']
  const res = await augmentShard({ dir: src, outDir: await tempDir(), recipe: recipe(format) }, { ...env, log })
  return { files: await shardFiles(res.dir), logs }
}

describe('the TypeScript passes (wasm: false)', () => {
  it('give the same bytes as the WebAssembly SIMD passes, and the log says which ran', async () => {
    const src = await writeSyntheticShard(await tempDir(), { width: 160, height: 96, frames: 8, texture: true, objects })
    for (const format of ['png', 'jpeg'] as const) {
      const simd = await run(src.dir, format, { workers: 1 })
      const ts = await run(src.dir, format, { workers: 1, wasm: false })
      expect(
        simd.logs.some((l) => /wasm-simd passes/.test(l)),
        simd.logs.join('\n'),
      ).toBe(true)
      expect(
        ts.logs.some((l) => /typescript passes/.test(l)),
        ts.logs.join('\n'),
      ).toBe(true)
      expectSameFiles(simd.files, ts.files)
      // The comparison covers every pass: crop, flip, blur, and both kinds of tone fired on some frame.
      const ops = new Set(JSON.parse(simd.files.get('manifest.json')!.toString()).frames.flatMap((f: { ops: string[] }) => f.ops))
      expect([...ops].sort()).toEqual(['blur', 'brightness', 'contrast', 'crop', 'flip', 'gamma'])
    }
  })
})

describe('the worker pool without the esbuild bundle', () => {
  it('loads the workers through tsx, gives the same bytes, and says so in the log', async () => {
    const src = await writeSyntheticShard(await tempDir(), { width: 96, height: 64, frames: 4, texture: true, objects })
    const bundled = await run(src.dir, 'jpeg', { workers: 1 })
    expect(
      bundled.logs.some((l) => /loaded as esbuild bundle/.test(l)),
      bundled.logs.join('\n'),
    ).toBe(true)
    const logs: string[] = []
    const log = Object.assign((m: string) => void logs.push(m), { child: () => log }) as unknown as AugmentEnv['log']
    const pool = new FramePool({ workers: 1, bundle: false, log })
    try {
      const plain = await run(src.dir, 'jpeg', { pool })
      expect(
        logs.some((l) => /loaded as tsx \(bundle: false\)/.test(l)),
        logs.join('\n'),
      ).toBe(true)
      expectSameFiles(bundled.files, plain.files)
    } finally {
      await pool.close()
    }
  })
})
