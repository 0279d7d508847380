import { describe, expect, it } from 'vitest'
import { moveObjects, parseKitti, kittiText, type FrameObject } from '../../../operators/augment/box-labels.ts'
import { compose, cropMatrix, flipMatrix, rotateScaleAbout, IDENTITY } from '../../../operators/augment/geometry.ts'

const obj = (x1: number, y1: number, x2: number, y2: number): FrameObject => ({
  cls: 'Car',
  truncated: 0,
  occluded: 0,
  alpha: 0.5,
  box: { x1, y1, x2, y2 },
  dims: [1.5, 1.8, 4],
  location: [2, 1.5, 20],
  rotationY: 0.3,
})

describe('boxes moved with the pixels', () => {
  // A 100×10 box, the crop window starting at x = 50 at scale 1: exactly half of it stays visible.
  const halfOut = cropMatrix(50, 0, 100, 10, 100, 10)
  const box = obj(0, 0, 100, 10)

  it('keeps a box exactly at minVisibility (inclusive) and drops one just under it', () => {
    const kept = moveObjects([box], halfOut, 100, 10, { minVisibility: 0.5, flip: false })
    expect(kept).toHaveLength(1)
    expect(kept[0]!.visibility).toBe(0.5)
    expect(kept[0]!.box).toEqual({ x1: 0, y1: 0, x2: 50, y2: 10 })
    expect(moveObjects([box], halfOut, 100, 10, { minVisibility: 0.5000001, flip: false })).toHaveLength(0)
  })

  it('drops a box with nothing visible even at minVisibility 0', () => {
    expect(moveObjects([obj(0, 0, 40, 10)], halfOut, 100, 10, { minVisibility: 0, flip: false })).toHaveLength(0)
  })

  it('updates truncation by the share cut off', () => {
    const [o] = moveObjects([{ ...box, truncated: 0.2 }], halfOut, 100, 10, { minVisibility: 0, flip: false })
    expect(o!.truncated).toBeCloseTo(1 - 0.8 * 0.5, 10)
  })

  it('mirrors the box and the 3D heading on a flip', () => {
    const [o] = moveObjects([obj(10, 2, 30, 8)], flipMatrix(100), 100, 10, { minVisibility: 0, flip: true })
    expect(o!.box).toEqual({ x1: 70, y1: 2, x2: 90, y2: 8 })
    expect(o!.location).toEqual([-2, 1.5, 20])
    expect(o!.rotationY).toBeCloseTo(Math.PI - 0.3, 10)
  })

  it('bounds a rotated box by its rotated corners, visibility from the clipped polygon', () => {
    const m = compose(rotateScaleAbout(45, 1, 50, 50), IDENTITY)
    const [o] = moveObjects([obj(40, 40, 60, 60)], m, 100, 100, { minVisibility: 0, flip: false })
    const half = 10 * Math.SQRT2
    expect(o!.box.x1).toBeCloseTo(50 - half, 9)
    expect(o!.box.x2).toBeCloseTo(50 + half, 9)
    expect(o!.visibility).toBeCloseTo(1, 12)
  })

  it('reads and writes KITTI lines, and names the file and line of a bad one', () => {
    const text = 'Car 0.00 0 0.50 10.00 20.00 30.00 40.00 1.50 1.80 4.00 2.00 1.50 20.00 0.30\n'
    expect(kittiText(parseKitti(text, 'a.txt'))).toBe(text)
    expect(() => parseKitti('Car 0 0 x\n', 'labels/kitti/00000001.txt')).toThrow(/labels\/kitti\/00000001.txt:1/)
  })
})
