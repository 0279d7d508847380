import { describe, expect, it } from 'vitest'
import { moveObjects, type FrameObject } from '../../../operators/augment/box-labels.ts'
import { project, projectionFromAttributes, transformProjection, type Projection } from '../../../operators/augment/calibration.ts'
import { apply, compose, cropMatrix, flipMatrix, rotateScaleAbout, type Affine } from '../../../operators/augment/geometry.ts'

// A 1280×720 camera with a 90° field of view: f = 640, principal point at the image centre.
const P = projectionFromAttributes({ image_size_x: 1280, image_size_y: 720, fov: 90 })!

/** A car 15 m ahead, 2 m right, heading 0.3 rad; alpha from KITTI's relation rotation_y = alpha + atan2(x, z). */
const car: FrameObject = {
  cls: 'Car',
  truncated: 0,
  occluded: 0,
  alpha: 0.3 - Math.atan2(2, 15),
  box: { x1: 0, y1: 0, x2: 0, y2: 0 },
  dims: [1.5, 1.8, 4.2],
  location: [2, 1.5, 15],
  rotationY: 0.3,
}
// Its 2D box: the bound of its projected 3D corners.
const corners = (o: Pick<FrameObject, 'dims' | 'location' | 'rotationY'>): Array<[number, number, number]> => {
  const [h, w, l] = o.dims
  const [x, y, z] = o.location
  const c = Math.cos(o.rotationY),
    s = Math.sin(o.rotationY)
  const out: Array<[number, number, number]> = []
  for (const dx of [-l / 2, l / 2])
    for (const dy of [0, -h]) for (const dz of [-w / 2, w / 2]) out.push([x + c * dx + s * dz, y + dy, z - s * dx + c * dz])
  return out
}
const bound = (pts: Array<[number, number]>) => ({
  x1: Math.min(...pts.map((p) => p[0])),
  y1: Math.min(...pts.map((p) => p[1])),
  x2: Math.max(...pts.map((p) => p[0])),
  y2: Math.max(...pts.map((p) => p[1])),
})
const box = bound(corners(car).map(([x, y, z]) => project(P, x, y, z)))
const labelled = { ...car, box }

/** The augmented label's 3D corners through the augmented projection land where the frame's map puts the source's. */
function expectConsistent(m: Affine, flip: boolean, P2: Projection): FrameObject {
  const [moved] = moveObjects([labelled], m, 1280, 720, { minVisibility: 0, flip })
  const want = corners(car).map(([x, y, z]) => apply(m, ...project(P, x, y, z)))
  const got = corners(moved!).map(([x, y, z]) => project(P2, x, y, z))
  // Mirrored, corner (dx, dy, dz) of the source box is corner (dx, dy, −dz) of the moved one: index ^ 1 in corners().
  for (let i = 0; i < 8; i++) {
    expect(got[flip ? i ^ 1 : i]![0]).toBeCloseTo(want[i]![0], 6)
    expect(got[flip ? i ^ 1 : i]![1]).toBeCloseTo(want[i]![1], 6)
  }
  return moved!
}

describe("the label camera's projection under the augment transforms", () => {
  it('is K·[I | 0] from CARLA attributes, and null without them', () => {
    P.forEach((v, i) => expect(v).toBeCloseTo([640, 0, 640, 0, 0, 640, 360, 0, 0, 0, 1, 0][i]!, 9))
    expect(projectionFromAttributes({ image_size_x: '1280', image_size_y: '720', fov: '90' })).toEqual(P)
    expect(projectionFromAttributes({ image_size_x: 1280, image_size_y: 720 })).toBeNull()
    expect(projectionFromAttributes(undefined)).toBeNull()
    expect(projectionFromAttributes({ image_size_x: 1280, image_size_y: 720, fov: 180 })).toBeNull()
  })

  it('under crop and resize changes the intrinsics only, and the unchanged 3D box still projects onto the moved one', () => {
    const m = cropMatrix(100, 50, 960, 540, 1280, 720)
    const P2 = transformProjection(P, m, false)
    const s = 1280 / 960
    const expected = [640 * s, 0, (640 - 100) * s, 0, 0, 640 * s, (360 - 50) * s, 0, 0, 0, 1, 0]
    P2.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 9))
    const moved = expectConsistent(m, false, P2)
    expect(moved.location).toEqual(car.location)
    expect(moved.rotationY).toBe(car.rotationY)
  })

  it('under a flip mirrors the principal point, and the mirrored 3D box (x → −x, heading π − θ) projects onto the flipped box', () => {
    const m = compose(cropMatrix(100, 50, 960, 540, 1280, 720), flipMatrix(1280))
    const P2 = transformProjection(P, m, true)
    const s = 1280 / 960
    // A flipped image's principal point is W − cx, then the crop's shift and scale apply.
    const expected = [640 * s, 0, (1280 - 640 - 100) * s, 0, 0, 640 * s, (360 - 50) * s, 0, 0, 0, 1, 0]
    P2.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 9))
    const moved = expectConsistent(m, true, P2)
    expect(moved.location).toEqual([-2, 1.5, 15])
    expect(moved.rotationY).toBeCloseTo(Math.PI - 0.3, 12)
    // alpha = rotation_y − atan2(x, z) still holds after the mirror: alpha' = π − alpha.
    const relation = Math.atan2(Math.sin(moved.rotationY - Math.atan2(-2, 15)), Math.cos(moved.rotationY - Math.atan2(-2, 15)))
    expect(moved.alpha).toBeCloseTo(relation, 12)
  })

  it('under a rotation stays an exact projection of the unchanged 3D box, but no longer an upper-triangular K', () => {
    const m = compose(rotateScaleAbout(7, 1.05, 640, 360), cropMatrix(100, 50, 960, 540, 1280, 720))
    const P2 = transformProjection(P, m, false)
    expectConsistent(m, false, P2)
    expect(Math.abs(P2[4]!)).toBeGreaterThan(1)
  })
})
