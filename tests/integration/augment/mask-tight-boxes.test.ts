import { describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { augmentShard } from '../../../operators/augment/augment-shard.ts'
import { readPixels, writeSyntheticShard } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

const W = 240,
  H = 160
const DISC = {
  cls: 'Car' as const,
  shape: 'disc' as const,
  box: { x1: 90, y1: 50, x2: 150, y2: 110 },
  rgb: [200, 30, 30] as [number, number, number],
}
const ELLIPSE = {
  cls: 'Pedestrian' as const,
  shape: 'disc' as const,
  box: { x1: 20, y1: 40, x2: 44, y2: 120 },
  rgb: [30, 200, 40] as [number, number, number],
}

async function rotated(tightBoxes: 'rotation' | 'never', raw: boolean): Promise<{ boxes: number[][]; dir: string }> {
  const src = await writeSyntheticShard(await tempDir(), { width: W, height: H, objects: [DISC, ELLIPSE], semantic: true, raw })
  const res = await augmentShard(
    {
      dir: src.dir,
      outDir: await tempDir(),
      recipe: { ops: { affine: { p: 1, rotate: [30, 30] } }, output: { format: 'png' }, labels: { minVisibility: 0, tightBoxes } },
    },
    { workers: 1 },
  )
  const text = await readFile(path.join(res.dir, 'labels', 'kitti', '00000010.txt'), 'utf8')
  return {
    boxes: text
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(4, 8).map(Number)),
    dir: res.dir,
  }
}

describe('boxes from the transformed segmentation image', () => {
  it.each([
    ['PNG', false],
    ['BGRA', true],
  ] as const)('are tighter than the bound of the rotated box and contain every pixel of the object (%s input)', async (_name, raw) => {
    const loose = await rotated('never', raw)
    const tight = await rotated('rotation', raw)
    const mask = await readPixels(path.join(tight.dir, 'frames', 'semantic', '00000010.png'))
    expect(mask.channels).toBe(1)
    for (const [k, tag, obj] of [
      [0, 14, DISC],
      [1, 12, ELLIPSE],
    ] as const) {
      const [lx1, ly1, lx2, ly2] = loose.boxes[k]!
      const [tx1, ty1, tx2, ty2] = tight.boxes[k]!
      // The square's 30° rotation has a bound of side·(cos 30° + sin 30°); the disc's own extent does not grow.
      expect(lx2! - lx1!).toBeGreaterThan(1.3 * (obj.box.x2 - obj.box.x1))
      expect(tx2! - tx1!).toBeLessThan(lx2! - lx1! - 5)
      expect(ty2! - ty1!).toBeLessThan(ly2! - ly1! - 5)
      // Every output pixel tagged as this object lies inside its tight box.
      let px = 0,
        outside = 0
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          if (mask.data[y * W + x] !== tag) continue
          px++
          if (x < tx1! || x + 1 > tx2! || y < ty1! || y + 1 > ty2!) outside++
        }
      }
      expect(px).toBeGreaterThan(100)
      expect(outside).toBe(0)
    }
    // The disc's tight box is about its diameter again.
    const [tx1, , tx2] = tight.boxes[0]!
    expect(tx2! - tx1!).toBeGreaterThanOrEqual(58)
    expect(tx2! - tx1!).toBeLessThanOrEqual(62)
    const manifest = JSON.parse(await readFile(path.join(tight.dir, 'manifest.json'), 'utf8'))
    expect(manifest.sensors.find((s: { name: string }) => s.name === 'semantic').pixelFormat).toBe('png')
  })
})
