import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boxStatistics, fitPrior, readLabels } from '../../../operators/training/example-trainer.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'forge-example-trainer-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the example trainer', () => {
  it('reads KITTI label files when there is no COCO file, one frame per file, DontCare left out', async () => {
    await mkdir(path.join(dir, 'shard-0', 'labels', 'kitti'), { recursive: true })
    await writeFile(
      path.join(dir, 'shard-0', 'labels', 'kitti', '000001.txt'),
      'Car 0.00 0 0.00 10.00 20.00 110.00 70.00 1.50 1.60 4.00 1.00 1.00 10.00 0.00\nPedestrian 0.00 0 0.00 0.00 0.00 20.00 50.00 1.7 0.5 0.5 1 1 5 0\nDontCare -1 -1 -10 0 0 5 5 -1 -1 -1 -1000 -1000 -1000 -10\n',
    )
    await writeFile(path.join(dir, 'shard-0', 'labels', 'kitti', '000002.txt'), '') // an empty frame
    const labels = await readLabels(dir)
    expect(labels).toMatchObject({ frames: 2, format: 'kitti' })
    expect(boxStatistics(labels.boxes)).toEqual({
      Car: { boxes: 1, meanWidth: 100, meanHeight: 50 },
      Pedestrian: { boxes: 1, meanWidth: 20, meanHeight: 50 },
    })
  })

  it('fits class frequencies and their entropy', () => {
    expect(fitPrior({ Car: { boxes: 3, meanWidth: 1, meanHeight: 1 }, Van: { boxes: 1, meanWidth: 1, meanHeight: 1 } })).toEqual({
      prior: { Car: 0.75, Van: 0.25 },
      entropyBits: 0.8113,
    })
    expect(fitPrior({})).toEqual({ prior: {}, entropyBits: 0 })
  })
})
