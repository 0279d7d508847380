/** 2D box projection (docs/carla-protocol.md §6 step 10) against hand-computed geometry, and the label writers. */
import { describe, expect, it } from 'vitest'
import { inverseTransformPoint, rotationMatrix, transformPoint, worldVertices } from '../../../operators/carla/labels/geometry.ts'
import { intrinsics, projectBox, visibleFraction } from '../../../operators/carla/labels/project-box.ts'
import { labelFrame } from '../../../operators/carla/labels/label-frame.ts'
import { kittiFile, kittiLine } from '../../../operators/carla/labels/kitti.ts'
import { CocoWriter } from '../../../operators/carla/labels/coco.ts'
import type { Actor } from '../../../operators/carla/client/codecs/actor.ts'

const rot0 = { pitch: 0, yaw: 0, roll: 0 }
const at = (x: number, y: number, z: number, yaw = 0) => ({ location: { x, y, z }, rotation: { pitch: 0, yaw, roll: 0 } })
/** 800×600, fov 90 → fx = fy = 400, cx = 400, cy = 300. */
const cam = { width: 800, height: 600, fov: 90, transform: at(0, 0, 0) }
const cube = { location: { x: 0, y: 0, z: 0 }, extent: { x: 1, y: 1, z: 1 }, rotation: rot0 }

describe('geometry (CARLA Transform.h conventions, UE left-handed)', () => {
  it('yaw 90 turns +x (forward) into +y (right); pitch 90 turns +x into +z (up)', () => {
    const p = transformPoint(at(0, 0, 0, 90), { x: 1, y: 0, z: 0 })
    expect(p.x).toBeCloseTo(0, 12)
    expect(p.y).toBeCloseTo(1, 12)
    const m = rotationMatrix({ pitch: 90, yaw: 0, roll: 0 })
    expect(m[6]).toBeCloseTo(1, 12) // x → z
  })

  it('inverseTransformPoint undoes transformPoint', () => {
    const t = { location: { x: 3, y: -4, z: 1 }, rotation: { pitch: 10, yaw: 35, roll: -7 } }
    const q = inverseTransformPoint(t, transformPoint(t, { x: 1.5, y: 2, z: -0.5 }))
    expect(q.x).toBeCloseTo(1.5, 9)
    expect(q.y).toBeCloseTo(2, 9)
    expect(q.z).toBeCloseTo(-0.5, 9)
  })

  it('world vertices apply the box offset and rotation, then the actor transform', () => {
    const v = worldVertices({ location: { x: 0, y: 0, z: 1 }, extent: { x: 2, y: 1, z: 0.5 }, rotation: rot0 }, at(10, 0, 0, 90))
    const xs = v.map((p) => p.x),
      ys = v.map((p) => p.y),
      zs = v.map((p) => p.z)
    expect(Math.min(...xs)).toBeCloseTo(9, 9) // length along world y after a 90° yaw, width along x
    expect(Math.max(...xs)).toBeCloseTo(11, 9)
    expect(Math.min(...ys)).toBeCloseTo(-2, 9)
    expect(Math.max(...ys)).toBeCloseTo(2, 9)
    expect([Math.min(...zs), Math.max(...zs)]).toEqual([0.5, 1.5])
  })
})

describe('projectBox', () => {
  it('fx = fy = W/(2·tan(fov·π/360)), principal point at the image centre', () => {
    const k = intrinsics(cam)
    expect(k.fx).toBeCloseTo(400, 9)
    expect(k).toMatchObject({ cx: 400, cy: 300 })
  })

  it('a 2 m cube 10 m ahead: near face at depth 9 spans 400 ± 400/9 px', () => {
    const b = projectBox(cube, at(10, 0, 0), cam)!
    expect(b.depth).toBeCloseTo(9, 9)
    expect(b.x1).toBeCloseTo(400 - 400 / 9, 6)
    expect(b.x2).toBeCloseTo(400 + 400 / 9, 6)
    expect(b.y1).toBeCloseTo(300 - 400 / 9, 6) // z up → image y down
    expect(b.y2).toBeCloseTo(300 + 400 / 9, 6)
    expect(b.truncation).toBe(0)
  })

  it('an object to the right and below projects right and down (UE→camera (x,y,z)→(y,−z,x))', () => {
    const b = projectBox({ ...cube, extent: { x: 0.5, y: 0.5, z: 0.5 } }, at(10, 5, -2), cam)!
    // u = 400 + 400·y/x over the near and far faces: 400 + 400·4.5/10.5 … 400 + 400·5.5/9.5
    expect(b.x1).toBeCloseTo(400 + (400 * 4.5) / 10.5, 6)
    expect(b.x2).toBeCloseTo(400 + (400 * 5.5) / 9.5, 6)
    expect(b.y1).toBeCloseTo(300 + (400 * 1.5) / 10.5, 6)
    expect(b.y2).toBeCloseTo(300 + (400 * 2.5) / 9.5, 6)
  })

  it('follows the camera: the same cube seen from a camera yawed 90° standing 10 m to its left', () => {
    const c2 = { ...cam, transform: at(10, -10, 0, 90) }
    const b = projectBox(cube, at(10, 0, 0), c2)!
    expect(b.depth).toBeCloseTo(9, 9)
    expect((b.x1 + b.x2) / 2).toBeCloseTo(400, 6)
  })

  it('drops corners behind the camera (the box is built from the front corners only)', () => {
    // A long box from 5 m behind to 5 m ahead of the camera, 3 m to the right.
    const b = projectBox({ location: { x: 0, y: 0, z: 0 }, extent: { x: 5, y: 0.5, z: 0.5 }, rotation: rot0 }, at(0, 3, 0), cam)!
    expect(b.depth).toBeCloseTo(5, 9)
    expect(b.x1).toBeCloseTo(400 + (400 * 2.5) / 5, 6)
    expect(b.x2).toBeCloseTo(400 + (400 * 3.5) / 5, 6)
  })

  it('clips to the image and reports the truncated share', () => {
    // u spans 400 + 400·9/11 … 400 + 400·11/9, past the right edge.
    const b = projectBox(cube, at(10, 10, 0), cam)!
    const u1 = 400 + (400 * 9) / 11,
      u2 = 400 + (400 * 11) / 9
    expect(b.x1).toBeCloseTo(u1, 6)
    expect(b.x2).toBe(800)
    expect(b.truncation).toBeCloseTo(1 - (800 - u1) / (u2 - u1), 6)
  })

  it('returns null for a box fully behind the camera or fully outside the image', () => {
    expect(projectBox(cube, at(-10, 0, 0), cam)).toBeNull()
    expect(projectBox(cube, at(10, 100, 0), cam)).toBeNull()
  })
})

describe('occlusion', () => {
  const box = { x1: 100, y1: 100, x2: 200, y2: 200, depth: 9, truncation: 0 }
  const depthImage = (metres: (x: number) => number): Uint8Array => {
    const px = new Uint8Array(800 * 600 * 4)
    for (let y = 0; y < 600; y++) {
      for (let x = 0; x < 800; x++) {
        const v = Math.round((metres(x) / 1000) * 16777215)
        const i = (y * 800 + x) * 4
        px[i + 2] = v & 0xff
        px[i + 1] = (v >> 8) & 0xff
        px[i] = (v >> 16) & 0xff
      }
    }
    return px
  }

  it('depth: a wall at 3 m over the left half of the box hides half of it', () => {
    const px = depthImage((x) => (x < 150 ? 3 : 50))
    expect(visibleFraction(box, { width: 800, height: 600, depthPixels: px })).toBeCloseTo(0.5, 1)
    expect(visibleFraction(box, { width: 800, height: 600, depthPixels: depthImage(() => 50) })).toBe(1)
  })

  it("semantic: counts pixels carrying one of the actor's tags", () => {
    const px = new Uint8Array(800 * 600 * 4)
    for (let y = 100; y < 200; y++) for (let x = 100; x < 125; x++) px[(y * 800 + x) * 4 + 2] = 14
    expect(visibleFraction(box, { width: 800, height: 600, semanticPixels: px, tags: new Uint8Array([14]) })).toBeCloseTo(0.25, 2)
  })
})

describe('labelFrame, KITTI and COCO', () => {
  const car: Actor = {
    id: 7,
    parentId: 0,
    description: { uid: 1, id: 'vehicle.audi.tt', attributes: [] },
    boundingBox: { location: { x: 0, y: 0, z: 0.75 }, extent: { x: 2, y: 1, z: 0.75 }, rotation: rot0 },
    semanticTags: new Uint8Array([14]),
    streamToken: new Uint8Array(),
  }
  const walker: Actor = { ...car, id: 8, description: { uid: 2, id: 'walker.pedestrian.0001', attributes: [] }, semanticTags: new Uint8Array([12]) }
  const sign: Actor = { ...car, id: 9, description: { uid: 3, id: 'static.prop.sign', attributes: [] } }

  it('labels vehicles and walkers in view with KITTI 3D fields in camera coordinates', () => {
    const labels = labelFrame(
      [
        { actor: car, transform: at(20, 0, -1.5) },
        { actor: walker, transform: at(15, -3, -1.5) },
        { actor: sign, transform: at(10, 0, 0) },
      ],
      cam,
    )
    expect(labels.map((l) => l.cls)).toEqual(['Car', 'Pedestrian'])
    const l = labels[0]!
    expect(l.dimensions).toEqual({ h: 1.5, w: 2, l: 4 })
    expect(l.location.x).toBeCloseTo(0, 6)
    expect(l.location.y).toBeCloseTo(1.5, 6) // bottom of the box, 1.5 m below the camera
    expect(l.location.z).toBeCloseTo(20, 6)
    expect(l.rotationY).toBeCloseTo(-Math.PI / 2, 9) // driving away from the camera
    expect(kittiLine(l)).toBe(
      `Car 0.00 0 -1.57 ${l.box.x1.toFixed(2)} ${l.box.y1.toFixed(2)} ${l.box.x2.toFixed(2)} ${l.box.y2.toFixed(2)} 1.50 2.00 4.00 0.00 1.50 20.00 -1.57`,
    )
    expect(kittiFile(labels).split('\n')).toHaveLength(3)
    expect(kittiFile([])).toBe('')
  })

  it('COCO: images, [x, y, w, h] boxes, categories', () => {
    const labels = labelFrame([{ actor: car, transform: at(20, 0, -1.5) }], cam)
    const coco = new CocoWriter()
    coco.addImage({ file_name: 'frames/rgb/00000001.png', width: 800, height: 600, frame: 1 }, labels)
    coco.addImage({ file_name: 'frames/rgb/00000002.png', width: 800, height: 600, frame: 2 }, [])
    const json = coco.toJSON() as { images: unknown[]; annotations: Array<{ bbox: number[]; category_id: number; image_id: number }> }
    expect(json.images).toHaveLength(2)
    expect(json.annotations).toHaveLength(1)
    const [x, y, w, h] = json.annotations[0]!.bbox
    expect(x).toBeCloseTo(labels[0]!.box.x1, 1)
    expect(x! + w!).toBeCloseTo(labels[0]!.box.x2, 1)
    expect(y! + h!).toBeCloseTo(labels[0]!.box.y2, 1)
    expect(json.annotations[0]).toMatchObject({ category_id: 1, image_id: 1 })
  })
})
