/**
 * carla-lite's maps. Every "town" is the same procedural scene, a straight road along the world x axis with
 * lanes each way, sidewalks, then flat terrain, so a background only depends on the camera's height, heading and
 * lateral offset and can be cached while the ego drives down its lane. Towns differ only in lane count.
 * The names are CARLA's so that clients asking for Town01 … Town10HD_Opt resolve them; an extra entry names
 * carla-lite itself, so a map listing can never pass for real CARLA.
 */
import { type Transform, rot, vec } from './geom.ts'

export interface RoadLayout {
  /** UE path, as get_available_maps and load_new_episode use it. */
  path: string
  lanesPerDirection: number
  laneWidth: number
  sidewalkWidth: number
  /** The road exists for |x| ≤ halfLength; traffic wraps around at the ends. */
  halfLength: number
}

const PREFIX = '/Game/Carla/Maps/'
export const LITE_MARKER_MAP = `${PREFIX}carla-lite_procedural_stand-in`

const TOWNS: Record<string, number> = {
  Town01: 1,
  Town01_Opt: 1,
  Town02: 1,
  Town02_Opt: 1,
  Town03: 2,
  Town03_Opt: 2,
  Town04: 2,
  Town04_Opt: 2,
  Town05: 2,
  Town05_Opt: 2,
  Town10HD: 2,
  Town10HD_Opt: 2,
}

export const DEFAULT_MAP = `${PREFIX}Town10HD_Opt`

export function availableMaps(): string[] {
  return [...Object.keys(TOWNS).map((t) => PREFIX + t), LITE_MARKER_MAP]
}

/** Accepts a full UE path or a bare name ("Town01"), as CARLA's LoadNewEpisode does. */
export function findMap(name: string): RoadLayout | null {
  const base = name.split('/').pop() ?? ''
  const town = Object.keys(TOWNS).find((t) => t.toLowerCase() === base.toLowerCase())
  if (town) return layout(PREFIX + town, TOWNS[town])
  if (name === LITE_MARKER_MAP || base === LITE_MARKER_MAP.split('/').pop()) return layout(LITE_MARKER_MAP, 2)
  return null
}

function layout(path: string, lanes: number): RoadLayout {
  return { path, lanesPerDirection: lanes, laneWidth: 3.5, sidewalkWidth: 3, halfLength: 500 }
}

export const roadHalfWidth = (m: RoadLayout): number => m.lanesPerDirection * m.laneWidth

/** "Carla/Maps/Town01", the form MapInfo.name takes. */
export const mapInfoName = (m: RoadLayout): string => m.path.replace(/^\/Game\//, '')

/** Lane centres: positive y drives +x (right-hand traffic with y to the right), negative y drives −x. */
export function laneCentres(m: RoadLayout): { y: number; yaw: number }[] {
  const out: { y: number; yaw: number }[] = []
  for (let i = 0; i < m.lanesPerDirection; i++) {
    out.push({ y: (i + 0.5) * m.laneWidth, yaw: 0 })
    out.push({ y: -(i + 0.5) * m.laneWidth, yaw: 180 })
  }
  return out
}

/** Every 12 m on every lane, 0.6 m up like CARLA's spawn points (actors are then settled onto the road). */
export function spawnPoints(m: RoadLayout): Transform[] {
  const out: Transform[] = []
  for (let x = -240; x <= 240; x += 12) {
    for (const lane of laneCentres(m)) out.push({ location: vec(x, lane.y, 0.6), rotation: rot(0, lane.yaw, 0) })
  }
  return out
}

/** A tiny but well-formed OpenDRIVE document for the straight road. */
export function openDrive(m: RoadLayout): string {
  const lanes = (side: 'left' | 'right'): string => {
    const lines: string[] = []
    for (let i = 1; i <= m.lanesPerDirection; i++) {
      const id = side === 'left' ? i : -i
      lines.push(`          <lane id="${id}" type="driving" level="false"><width sOffset="0" a="${m.laneWidth}" b="0" c="0" d="0"/></lane>`)
    }
    const sid = side === 'left' ? m.lanesPerDirection + 1 : -(m.lanesPerDirection + 1)
    lines.push(`          <lane id="${sid}" type="sidewalk" level="false"><width sOffset="0" a="${m.sidewalkWidth}" b="0" c="0" d="0"/></lane>`)
    return lines.join('\n')
  }
  const len = 2 * m.halfLength
  return `<?xml version="1.0" standalone="yes"?>
<OpenDRIVE>
  <header revMajor="1" revMinor="4" name="${mapInfoName(m)}" version="1" vendor="carla-lite, a procedural stand-in for CARLA 0.9.15"/>
  <road name="main" length="${len}" id="0" junction="-1">
    <planView><geometry s="0" x="${-m.halfLength}" y="0" hdg="0" length="${len}"><line/></geometry></planView>
    <lanes>
      <laneSection s="0">
        <left>
${lanes('left')}
        </left>
        <center><lane id="0" type="none" level="false"/></center>
        <right>
${lanes('right')}
        </right>
      </laneSection>
    </lanes>
  </road>
</OpenDRIVE>
`
}
