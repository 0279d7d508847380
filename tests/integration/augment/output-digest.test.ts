import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { augmentShard } from '../../../operators/augment/augment-shard.ts'
import { writeSyntheticShard } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

/**
 * The bytes of a fixed shard's augmented output, pinned: a change meant to make the operator cheaper must leave
 * them as they are. Recorded with the code before the CPU work on the frame path (sharp and libvips as locked).
 */
const EXPECTED = '475b52697fa03661db15925e97b7049305f81fc0d4f2660609af762530ffc80d'

describe('the augmented bytes', () => {
  it('are the recorded ones for a fixed shard and recipe (PNG and BGRA input, JPEG and PNG output)', async () => {
    const objects = [
      { cls: 'Car' as const, shape: 'disc' as const, box: { x1: 20, y1: 16, x2: 90, y2: 60 }, rgb: [200, 30, 30] as [number, number, number] },
    ]
    const digest = createHash('sha256')
    for (const raw of [false, true]) {
      const src = await writeSyntheticShard(await tempDir(), { width: 160, height: 96, frames: 6, texture: true, semantic: true, raw, objects })
      for (const format of ['jpeg', 'png'] as const) {
        const res = await augmentShard(
          {
            dir: src.dir,
            outDir: await tempDir(),
            recipe: {
              seed: 2,
              ops: {
                flip: { p: 0.5 },
                crop: { p: 0.7, scale: [0.6, 0.9] },
                brightness: { p: 0.6, range: [-0.2, 0.2] },
                blur: { p: 0.6, sigma: [0.5, 1.5] },
              },
              output: { format },
            },
          },
          { workers: 1 },
        )
        const manifest = await readFile(path.join(res.dir, 'manifest.json'), 'utf8')
        // The manifest names the source folder, a temp dir: its file list (paths, sizes, SHA-256) carries the bytes.
        digest.update(JSON.stringify(JSON.parse(manifest).files))
      }
    }
    expect(digest.digest('hex')).toBe(EXPECTED)
  })
})
