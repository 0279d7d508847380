import { describe, expect, it } from 'vitest'
import { readFile, writeFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { UnsafePathError } from '../../../runtime/index.ts'
import { augmentShard } from '../../../operators/augment/augment-shard.ts'
import { writeSyntheticShard } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

async function shardWith(edit: (m: { shard: string; files: Array<{ path: string }>; sensors: Array<{ name: string }> }) => void): Promise<string> {
  const src = await writeSyntheticShard(await tempDir(), { width: 32, height: 24, objects: [] })
  const file = path.join(src.dir, 'manifest.json')
  const m = JSON.parse(await readFile(file, 'utf8'))
  edit(m)
  await writeFile(file, JSON.stringify(m))
  return src.dir
}

describe('names from a shard manifest', () => {
  it('refuses a frame path that leaves the shard folder', async () => {
    const dir = await shardWith((m) => {
      m.files[0]!.path = 'frames/rgb/../../../../escape.png'
    })
    const out = await tempDir()
    const err = await augmentShard({ dir, outDir: out }, { workers: 1 }).catch((e) => e)
    expect(err).toBeInstanceOf(UnsafePathError)
    expect(err.message).toContain('frames/rgb/../../../../escape.png')
    expect(await readdir(out)).toEqual([])
  })

  it('refuses a sensor name and a shard name that would leave the output folder', async () => {
    const bySensor = await shardWith((m) => {
      m.sensors[0]!.name = '..'
    })
    await expect(augmentShard({ dir: bySensor, outDir: await tempDir() }, { workers: 1 })).rejects.toBeInstanceOf(UnsafePathError)
    const byShard = await shardWith((m) => {
      m.shard = '../../elsewhere'
    })
    const err = await augmentShard({ dir: byShard, outDir: await tempDir() }, { workers: 1 }).catch((e) => e)
    expect(err).toBeInstanceOf(UnsafePathError)
    expect(err.message).toMatch(/shard name/)
  })

  it('refuses a shard without a manifest, saying why', async () => {
    const dir = await tempDir()
    await expect(augmentShard({ dir, outDir: await tempDir() }, { workers: 1 })).rejects.toThrow(
      /manifest\.json.*complete only once its manifest is written/,
    )
  })
})
