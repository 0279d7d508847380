import { describe, expect, it } from 'vitest'
import { resizeWindow, toneTable } from '../../../operators/augment/resize-window.ts'

const gray = (values: number[], width = values.length) => ({ data: Uint8Array.from(values), width, height: values.length / width, channels: 1 })

describe('the crop-flip-resize pass', () => {
  it('copies exactly when nothing changes, and mirrors exactly on a flip', () => {
    const img = gray([10, 20, 30, 40, 50, 60], 3)
    expect([...resizeWindow(img, { x: 0, y: 0, w: 3, h: 2 }, false, 3, 2, null).data]).toEqual([10, 20, 30, 40, 50, 60])
    expect([...resizeWindow(img, { x: 0, y: 0, w: 3, h: 2 }, true, 3, 2, null).data]).toEqual([30, 20, 10, 60, 50, 40])
  })

  it('aligns pixel centres when upsampling (bilinear, edges clamped)', () => {
    expect([...resizeWindow(gray([0, 255]), { x: 0, y: 0, w: 2, h: 1 }, false, 4, 1, null).data]).toEqual([0, 64, 191, 255])
  })

  it('takes the window in the flipped image', () => {
    // Flipped, [1, 2, 3, 4] reads [4, 3, 2, 1]; its window x = 1, w = 2 is [3, 2].
    expect([...resizeWindow(gray([1, 2, 3, 4]), { x: 1, y: 0, w: 2, h: 1 }, true, 2, 1, null).data]).toEqual([3, 2])
  })

  it('applies the tone table to every output value', () => {
    const lut = toneTable(0.1, 1, null)!
    expect(lut[0]).toBe(26)
    expect(lut[250]).toBe(255)
    expect([...resizeWindow(gray([0, 100]), { x: 0, y: 0, w: 2, h: 1 }, true, 2, 1, lut).data]).toEqual([126, 26])
    expect(toneTable(0, 1, null)).toBeNull()
    const contrast = toneTable(0, 2, null)!
    expect([contrast[128], contrast[64], contrast[192]]).toEqual([128, 0, 255])
    expect(toneTable(0, 1, 2)![128]).toBe(Math.round(255 * (128 / 255) ** 2))
  })
})
