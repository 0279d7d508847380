import { describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { augmentShard } from '../../../operators/augment/augment-shard.ts'
import { writeSyntheticShard } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

describe('an aborted augmentation', () => {
  it('stops taking frames, rejects, and leaves no manifest behind', async () => {
    const src = await writeSyntheticShard(await tempDir(), { width: 64, height: 48, frames: 40, objects: [] })
    const out = await tempDir()
    const ac = new AbortController()
    const seen: number[] = []
    const err = await augmentShard(
      { dir: src.dir, outDir: out, recipe: { ops: { flip: { p: 0.5 } } } },
      {
        workers: 1,
        signal: ac.signal,
        progress: (done) => {
          seen.push(done)
          if (done === 3) ac.abort(new Error('cancelled by the test'))
        },
      },
    ).catch((e) => e)
    expect(err.message).toMatch(/aborted: cancelled by the test/)
    // At most the frames already handed to the one worker (two lanes) finish after the abort.
    expect(seen.length).toBeLessThanOrEqual(5)
    expect(existsSync(path.join(out, src.name, 'manifest.json'))).toBe(false)
  })
})
