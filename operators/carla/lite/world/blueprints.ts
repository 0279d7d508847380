/**
 * The blueprint library get_actor_definitions returns. uids are 1-based positions in this list, which is what
 * CARLA's ActorDispatcher checks a spawn request against. Boxes are rough real-world sizes so that rendered cars
 * and pedestrians look right and the 2D boxes a client projects are plausible.
 */
import { AttrType, type ActorDefinition, type AttributeDef } from '../wire/carla-structs.ts'
import { vec, type Vec3 } from './geom.ts'

export type ActorKind = 'vehicle' | 'walker' | 'rgb' | 'depth' | 'semantic'

export interface BlueprintInfo {
  kind: ActorKind
  /** Half sizes for vehicles and walkers. */
  extent: Vec3
  /** CityScapes tag (rpc/ObjectLabel.h): 14 car, 15 truck, 18 motorcycle, 19 bicycle, 12 pedestrian. */
  tag: number
}

const attr = (id: string, type: AttrType, value: string, modifiable = true, recommended: string[] = []): AttributeDef => ({
  id,
  type,
  value,
  recommended,
  modifiable,
  restrictToRecommended: false,
})

const VEHICLES: [string, Vec3, number, string][] = [
  ['vehicle.tesla.model3', vec(2.4, 1.08, 0.75), 14, 'car'],
  ['vehicle.audi.a2', vec(1.86, 0.9, 0.77), 14, 'car'],
  ['vehicle.lincoln.mkz_2020', vec(2.45, 1.07, 0.74), 14, 'car'],
  ['vehicle.mercedes.coupe_2020', vec(2.34, 1.01, 0.72), 14, 'car'],
  ['vehicle.nissan.micra', vec(1.82, 0.88, 0.76), 14, 'car'],
  ['vehicle.toyota.prius', vec(2.26, 1.01, 0.76), 14, 'car'],
  ['vehicle.carlamotors.carlacola', vec(2.6, 1.28, 1.28), 15, 'truck'],
  ['vehicle.yamaha.yzf', vec(1.1, 0.43, 0.62), 18, 'motorcycle'],
  ['vehicle.diamondback.century', vec(0.82, 0.19, 0.53), 19, 'bicycle'],
]

const COLORS = ['255,255,255', '17,37,103', '140,0,0', '40,40,40', '200,200,200', '200,160,20']

function vehicle(id: string, base: string): AttributeDef[] {
  const wheels = base === 'motorcycle' || base === 'bicycle' ? '2' : '4'
  return [
    attr('role_name', AttrType.String, 'autopilot', true, ['autopilot', 'scenario', 'ego_vehicle']),
    attr('color', AttrType.RGBColor, COLORS[id.length % COLORS.length], true, COLORS),
    attr('number_of_wheels', AttrType.Int, wheels, false),
    attr('generation', AttrType.Int, '2', false),
    attr('base_type', AttrType.String, base, false),
    attr('object_type', AttrType.String, '', false),
    attr('sticky_control', AttrType.Bool, 'true'),
    attr('terramechanics', AttrType.Bool, 'false'),
  ]
}

function walker(n: number): AttributeDef[] {
  return [
    attr('role_name', AttrType.String, 'pedestrian'),
    attr('is_invincible', AttrType.Bool, 'true'),
    attr('speed', AttrType.Float, '1.4', true, ['1.4', '2.8']),
    attr('age', AttrType.String, n % 4 === 0 ? 'child' : 'adult', false),
    attr('gender', AttrType.String, n % 2 ? 'female' : 'male', false),
    attr('generation', AttrType.Int, '2', false),
  ]
}

function camera(extra: AttributeDef[]): AttributeDef[] {
  return [
    attr('image_size_x', AttrType.Int, '800'),
    attr('image_size_y', AttrType.Int, '600'),
    attr('fov', AttrType.Float, '90.0'),
    attr('sensor_tick', AttrType.Float, '0.0'),
    attr('lens_circle_falloff', AttrType.Float, '5.0'),
    attr('lens_circle_multiplier', AttrType.Float, '0.0'),
    attr('lens_k', AttrType.Float, '-1.0'),
    attr('lens_kcube', AttrType.Float, '0.0'),
    attr('lens_x_size', AttrType.Float, '0.08'),
    attr('lens_y_size', AttrType.Float, '0.08'),
    attr('role_name', AttrType.String, 'front'),
    ...extra,
  ]
}

interface Entry {
  def: Omit<ActorDefinition, 'uid'>
  info: BlueprintInfo
}

function build(): Entry[] {
  const out: Entry[] = []
  for (const [id, extent, tag, base] of VEHICLES) {
    out.push({ def: { id, tags: `vehicle,${base}`, attributes: vehicle(id, base) }, info: { kind: 'vehicle', extent, tag } })
  }
  for (let n = 1; n <= 10; n++) {
    const id = `walker.pedestrian.${String(n).padStart(4, '0')}`
    const extent = n % 4 === 0 ? vec(0.17, 0.25, 0.6) : vec(0.19, 0.34, 0.93)
    out.push({ def: { id, tags: 'walker,pedestrian', attributes: walker(n) }, info: { kind: 'walker', extent, tag: 12 } })
  }
  const zero = vec(0, 0, 0)
  out.push({
    def: {
      id: 'sensor.camera.rgb',
      tags: 'sensor,camera,rgb',
      attributes: camera([
        attr('gamma', AttrType.Float, '2.2'),
        attr('enable_postprocess_effects', AttrType.Bool, 'true'),
        attr('motion_blur_intensity', AttrType.Float, '0.45'),
        attr('exposure_mode', AttrType.String, 'histogram'),
      ]),
    },
    info: { kind: 'rgb', extent: zero, tag: 0 },
  })
  out.push({ def: { id: 'sensor.camera.depth', tags: 'sensor,camera,depth', attributes: camera([]) }, info: { kind: 'depth', extent: zero, tag: 0 } })
  out.push({
    def: { id: 'sensor.camera.semantic_segmentation', tags: 'sensor,camera,semantic_segmentation', attributes: camera([]) },
    info: { kind: 'semantic', extent: zero, tag: 0 },
  })
  return out
}

const ENTRIES = build()

export const actorDefinitions: readonly ActorDefinition[] = ENTRIES.map((e, i) => ({ uid: i + 1, ...e.def }))

/** Blueprint for a 1-based uid, or null when CARLA would answer "Invalid ActorDescription". */
export function blueprint(uid: number): { def: ActorDefinition; info: BlueprintInfo } | null {
  if (!Number.isInteger(uid) || uid < 1 || uid > ENTRIES.length) return null
  return { def: actorDefinitions[uid - 1], info: ENTRIES[uid - 1].info }
}
