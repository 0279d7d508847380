/**
 * How each camera type encodes a pixel, as little-endian u32 words whose bytes are B, G, R, A (UE FColor order):
 * - depth: metres = (R + G·256 + B·256²) / (256³ − 1) · 1000 (CARLA's ref_sensors), capped at 1000 m;
 * - semantic segmentation: CityScapes tag in R, G = B = 0.
 */

export const FAR_PLANE = 1000
const SCALE = (256 ** 3 - 1) / FAR_PLANE

export const Tag = { Road: 1, Sidewalk: 2, Terrain: 10, Sky: 11, RoadLine: 24 } as const

export function depthPixel(metres: number): number {
  const n = metres >= FAR_PLANE ? 0xffffff : Math.round(metres * SCALE)
  // R holds the low byte, B the high byte; in BGRA memory order that is byte 2 = low, byte 0 = high.
  return ((n >>> 16) | (((n >>> 8) & 0xff) << 8) | ((n & 0xff) << 16) | 0xff000000) >>> 0
}

export function semanticPixel(tag: number): number {
  return ((tag << 16) | 0xff000000) >>> 0
}

/** Inverse of depthPixel, for tests and tools. */
export function decodeDepthBgra(b: number, g: number, r: number): number {
  return ((r + g * 256 + b * 65536) / (256 ** 3 - 1)) * FAR_PLANE
}
