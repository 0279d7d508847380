import { describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { augmentShard } from '../../../operators/augment/augment-shard.ts'
import { readPixels, writeSyntheticShard, type SynthObject } from './helpers/synthetic-shard.ts'
import { tempDir } from './helpers/temp-dir.ts'

const W = 200,
  H = 120
const RED: SynthObject = { cls: 'Car', shape: 'rect', box: { x1: 20, y1: 30, x2: 60, y2: 70 }, rgb: [230, 20, 20] }
const GREEN: SynthObject = { cls: 'Pedestrian', shape: 'rect', box: { x1: 130, y1: 20, x2: 180, y2: 100 }, rgb: [20, 220, 40] }
/** Resampling blends one or two pixels at an edge: the checks keep this far from a box's border. */
const EDGE = 2

const near = (px: Buffer, i: number, c: readonly number[], tol: number): boolean =>
  Math.abs(px[i]! - c[0]!) <= tol && Math.abs(px[i + 1]! - c[1]!) <= tol && Math.abs(px[i + 2]! - c[2]!) <= tol

describe('a flipped and cropped frame', () => {
  for (const [seed, raw] of [
    [1, false],
    [2, false],
    [3, false],
    [4, true],
  ] as const) {
    it(`has each object's colour inside its output box and nowhere outside it (seed ${seed}${raw ? ', BGRA input' : ''})`, async () => {
      const src = await writeSyntheticShard(await tempDir(), { width: W, height: H, objects: [RED, GREEN], raw })
      const out = await tempDir()
      const res = await augmentShard(
        {
          dir: src.dir,
          outDir: out,
          recipe: { seed, ops: { flip: { p: 1 }, crop: { p: 1, scale: [0.8, 0.8] } }, output: { format: 'png' }, labels: { minVisibility: 0 } },
        },
        { workers: 1 },
      )
      const manifest = JSON.parse(await readFile(path.join(res.dir, 'manifest.json'), 'utf8'))
      expect(manifest.frames[0].ops).toEqual(['flip', 'crop'])
      const lines = (await readFile(path.join(res.dir, 'labels', 'kitti', '00000010.txt'), 'utf8')).trim().split('\n')
      expect(lines).toHaveLength(2)
      const img = await readPixels(path.join(res.dir, 'frames', 'rgb', '00000010.png'))
      expect([img.width, img.height, img.channels]).toEqual([W, H, 3])
      for (const [line, obj] of [
        [lines[0]!, RED],
        [lines[1]!, GREEN],
      ] as const) {
        const f = line.split(' ')
        expect(f[0]).toBe(obj.cls)
        const [x1, y1, x2, y2] = f.slice(4, 8).map(Number) as [number, number, number, number]
        // Flipped: the red box, left in the source, is now right of centre, and the green one left of it.
        expect((x1 + x2) / 2 > W / 2).toBe(obj === RED)
        let inside = 0,
          wrongInside = 0,
          outsideHits = 0
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const i = (y * W + x) * 3
            const cx = x + 0.5,
              cy = y + 0.5
            if (cx > x1 + EDGE && cx < x2 - EDGE && cy > y1 + EDGE && cy < y2 - EDGE) {
              inside++
              if (!near(img.data, i, obj.rgb, 6)) wrongInside++
            } else if (cx < x1 - EDGE || cx > x2 + EDGE || cy < y1 - EDGE || cy > y2 + EDGE) {
              if (near(img.data, i, obj.rgb, 60)) outsideHits++
            }
          }
        }
        expect(inside).toBeGreaterThan(100)
        expect(wrongInside).toBe(0)
        expect(outsideHits).toBe(0)
      }
      const coco = JSON.parse(await readFile(path.join(res.dir, 'labels', 'coco.json'), 'utf8'))
      expect(coco.images[0]).toMatchObject({ file_name: 'frames/rgb/00000010.png', width: W, height: H, frame: 10 })
      expect(coco.annotations.map((a: { carla_actor_id: number }) => a.carla_actor_id)).toEqual([100, 101])
      // The same boxes in both label formats.
      const k = lines[0]!.split(' ').slice(4, 8).map(Number)
      expect(coco.annotations[0].bbox[0]).toBeCloseTo(k[0]!, 1)
      expect(coco.annotations[0].bbox[2]).toBeCloseTo(k[2]! - k[0]!, 1)
    })
  }
})
