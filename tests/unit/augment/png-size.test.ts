import { describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { pngSize } from '../../../operators/augment/augment-frame.ts'

describe("a PNG's size from its header", () => {
  it('reads width and height from IHDR, and gives null for anything that is not a PNG', async () => {
    const img = sharp({ create: { width: 37, height: 11, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    expect(pngSize(await img.clone().png().toBuffer())).toEqual({ width: 37, height: 11 })
    const jpeg = await img.clone().jpeg().toBuffer()
    expect(pngSize(jpeg)).toBeNull()
    // A JPEG with PNG's signature pasted on still has no IHDR chunk where PNG requires it.
    expect(pngSize(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), jpeg]))).toBeNull()
  })
})
