import { describe, expect, it } from 'vitest'
import { appendFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { augmentShard } from '../../../operators/augment/augment-shard.ts'
import type { RecipeInput } from '../../../operators/augment/recipe.ts'
import { PROGRESS_FILE } from '../../../operators/augment/shard-progress.ts'
import { expectSameFiles, shardFiles } from './helpers/shard-files.ts'
import { writeSyntheticShard } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

const FRAMES = 12
const recipe = (seed: number): RecipeInput => ({
  seed,
  ops: { flip: { p: 0.5 }, crop: { p: 0.7, scale: [0.6, 0.9] }, brightness: { p: 0.5, range: [-0.2, 0.2] }, blur: { p: 0.5, sigma: [0.6, 1.2] } },
})

const objects = [
  { cls: 'Car' as const, shape: 'rect' as const, box: { x1: 10, y1: 12, x2: 50, y2: 40 }, rgb: [200, 30, 30] as [number, number, number] },
]

/** Aborts once `after` frames are done; resolves with what the call settled with. */
async function abortedRun(src: string, outDir: string, after: number): Promise<unknown> {
  const ac = new AbortController()
  return augmentShard(
    { dir: src, outDir, recipe: recipe(3) },
    { workers: 1, signal: ac.signal, progress: (done) => done === after && ac.abort(new Error('cancelled by the test')) },
  ).catch((e: Error) => e)
}

/** Inode and mtime of each finished colour frame. */
async function stamps(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const name of (await readdir(path.join(dir, 'frames', 'rgb'))).filter((n) => n.endsWith('.jpg'))) {
    const s = await stat(path.join(dir, 'frames', 'rgb', name), { bigint: true })
    out.set(name, `${s.ino}:${s.mtimeNs}`)
  }
  return out
}

describe('a retried augmentation', () => {
  it('keeps the frames the aborted try wrote, computes the rest, and ends byte-identical to an uninterrupted run', async () => {
    const src = await writeSyntheticShard(await tempDir(), { width: 96, height: 64, frames: FRAMES, semantic: true, objects })
    const clean = await augmentShard({ dir: src.dir, outDir: await tempDir(), recipe: recipe(3) }, { workers: 2 })
    expect(clean.resumed).toBe(0)
    const out = await tempDir()
    expect(await abortedRun(src.dir, out, 4)).toMatchObject({ message: expect.stringMatching(/cancelled by the test/) })
    const dir = path.join(out, src.name)
    const before = await stamps(dir)
    // The frame already handed to the worker when the abort came is finished and kept, not thrown away.
    expect(before.size).toBeGreaterThanOrEqual(5)
    expect(before.size).toBeLessThan(FRAMES)
    // A frame file cut off mid-write keeps its temporary name; the retry removes it.
    await writeFile(path.join(dir, 'frames', 'rgb', '00000099.jpg.partial'), 'half a frame')

    const again = await augmentShard({ dir: src.dir, outDir: out, recipe: recipe(3) }, { workers: 2 })
    expect(again.resumed).toBe(before.size)
    const after = await stamps(dir)
    for (const [name, stamp] of before) expect(after.get(name), name).toBe(stamp)
    expectSameFiles(await shardFiles(clean.dir), await shardFiles(dir))
  })

  it('does a frame again when a file it lists is no longer what the journal recorded', async () => {
    const src = await writeSyntheticShard(await tempDir(), { width: 96, height: 64, frames: FRAMES, objects })
    const clean = await augmentShard({ dir: src.dir, outDir: await tempDir(), recipe: recipe(3) }, { workers: 1 })
    const out = await tempDir()
    await abortedRun(src.dir, out, 4)
    const dir = path.join(out, src.name)
    const before = await stamps(dir)
    const [first, second] = [...before.keys()].sort()
    // One file shortened, one overwritten with bytes of the same length: both must be redone.
    await truncate(path.join(dir, 'frames', 'rgb', first!), 10)
    const body = await readFile(path.join(dir, 'frames', 'rgb', second!))
    await writeFile(path.join(dir, 'frames', 'rgb', second!), Buffer.alloc(body.length, 7))
    // A line that is not a frame's record, and one cut off before its newline, are not taken either.
    await appendFile(path.join(dir, PROGRESS_FILE), '{"index":11}\n{"index":11,"frame":21,"result":{"files":[]')

    const again = await augmentShard({ dir: src.dir, outDir: out, recipe: recipe(3) }, { workers: 1 })
    expect(again.resumed).toBe(before.size - 2)
    expectSameFiles(await shardFiles(clean.dir), await shardFiles(dir))
  })

  it('starts over when the source shard changed since the aborted try', async () => {
    const src = await writeSyntheticShard(await tempDir(), { width: 96, height: 64, frames: FRAMES, objects })
    const out = await tempDir()
    await abortedRun(src.dir, out, 4)
    // The same shard name, other pixels: the journal's frames belong to the old source.
    const moved = [{ ...objects[0]!, box: { x1: 40, y1: 20, x2: 80, y2: 60 } }]
    const changed = await writeSyntheticShard(await tempDir(), { width: 96, height: 64, frames: FRAMES, objects: moved })
    const again = await augmentShard({ dir: changed.dir, outDir: out, recipe: recipe(3) }, { workers: 1 })
    expect(again.resumed).toBe(0)
  })

  it('starts over when the retry has another recipe', async () => {
    const src = await writeSyntheticShard(await tempDir(), { width: 96, height: 64, frames: FRAMES, objects })
    const out = await tempDir()
    await abortedRun(src.dir, out, 4)
    const other = await augmentShard({ dir: src.dir, outDir: out, recipe: recipe(4) }, { workers: 1 })
    expect(other.resumed).toBe(0)
    const clean = await augmentShard({ dir: src.dir, outDir: await tempDir(), recipe: recipe(4) }, { workers: 1 })
    expectSameFiles(await shardFiles(clean.dir), await shardFiles(other.dir))
  })
})
