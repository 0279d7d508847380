/**
 * The pixel operations libvips has no seeded form of (or that need our exact geometry): the affine warp, tone
 * tables, noise, fog and rain, on raw interleaved 8-bit buffers. Deterministic: same input and parameters, same bytes.
 */
import { gaussian, type Rng } from './frame-random.ts'
import { seededRandom } from '../carla/generate/seeded-random.ts'
import { apply, invert, type Affine } from './geometry.ts'

export interface RawImage {
  data: Uint8Array
  width: number
  height: number
  channels: number
}

/**
 * Output pixel centre → input position through the inverse map; bilinear for images, nearest for masks and depth
 * (whose values must not be blended). Pixels mapping outside the input get `fill`.
 */
export function warp(src: RawImage, m: Affine, mode: 'bilinear' | 'nearest', fill: number): RawImage {
  const { width: W, height: H, channels: C, data } = src
  const out = new Uint8Array(W * H * C)
  const inv = invert(m)
  const a = inv[0],
    d = inv[3]
  const row = W * C
  for (let y = 0; y < H; y++) {
    // Input position of this row's first pixel centre; each step right adds (a, d).
    let [u, v] = apply(inv, 0.5, y + 0.5)
    for (let x = 0, o = y * row; x < W; x++, u += a, v += d, o += C) {
      if (mode === 'nearest') {
        const ix = Math.floor(u),
          iy = Math.floor(v)
        if (ix < 0 || iy < 0 || ix >= W || iy >= H) {
          for (let c = 0; c < C; c++) out[o + c] = fill
        } else {
          const i = iy * row + ix * C
          for (let c = 0; c < C; c++) out[o + c] = data[i + c]!
        }
        continue
      }
      const fx = u - 0.5,
        fy = v - 0.5
      const x0 = Math.floor(fx),
        y0 = Math.floor(fy)
      if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) {
        for (let c = 0; c < C; c++) out[o + c] = fill
        continue
      }
      const tx = fx - x0,
        ty = fy - y0
      const inside = x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H
      const i = y0 * row + x0 * C
      for (let c = 0; c < C; c++) {
        let p00, p10, p01, p11
        if (inside) {
          ;((p00 = data[i + c]!), (p10 = data[i + C + c]!), (p01 = data[i + row + c]!), (p11 = data[i + row + C + c]!))
        } else {
          ;((p00 = sample(data, W, H, C, x0, y0, c, fill)), (p10 = sample(data, W, H, C, x0 + 1, y0, c, fill)))
          ;((p01 = sample(data, W, H, C, x0, y0 + 1, c, fill)), (p11 = sample(data, W, H, C, x0 + 1, y0 + 1, c, fill)))
        }
        const top = p00 + (p10 - p00) * tx
        const bottom = p01 + (p11 - p01) * tx
        out[o + c] = Math.round(top + (bottom - top) * ty)
      }
    }
  }
  return { data: out, width: W, height: H, channels: C }
}

function sample(data: Uint8Array, W: number, H: number, C: number, x: number, y: number, c: number, fill: number): number {
  return x < 0 || y < 0 || x >= W || y >= H ? fill : data[(y * W + x) * C + c]!
}

/** Every value through a 256-entry table, in place. */
export function applyTable(img: RawImage, lut: Uint8Array): void {
  const d = img.data
  for (let i = 0; i < d.length; i++) d[i] = lut[d[i]!]!
}

/**
 * Additive Gaussian noise, independent per channel value: a table of 64 Ki normal draws from the seed, indexed by
 * a xorshift stream, since a logarithm and a sine per value made noise the slowest op by far.
 */
export function addNoise(img: RawImage, sigma: number, seed: number): void {
  const n = gaussian(seededRandom(seed))
  const table = new Float32Array(65536)
  for (let i = 0; i < table.length; i++) table[i] = sigma * n()
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1
  const d = img.data
  for (let i = 0; i < d.length; i++) {
    ;((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5))
    d[i] = clamp(d[i]! + table[(x >>> 0) & 0xffff]!)
  }
}

/** Blends towards light grey, `density` at the top row falling to half of it at the bottom (distance haze). */
export function addFog(img: RawImage, density: number, grey = 200): void {
  const { width: W, height: H, channels: C, data } = img
  for (let y = 0; y < H; y++) {
    const a = density * (1 - 0.5 * (y / Math.max(1, H - 1)))
    const add = a * grey
    const keep = 1 - a
    for (let i = y * W * C, end = i + W * C; i < end; i++) data[i] = Math.round(data[i]! * keep + add)
  }
}

/** Thin slanted streaks, blended half-way to near-white. */
export function addRain(img: RawImage, rain: { drops: number; length: number; slant: number; seed: number }): void {
  const { width: W, height: H, channels: C, data } = img
  const rng: Rng = seededRandom(rain.seed)
  const t = (rain.slant * Math.PI) / 180
  const dx = Math.sin(t),
    dy = Math.cos(t)
  for (let k = 0; k < rain.drops; k++) {
    const x0 = rng() * W,
      y0 = rng() * H
    for (let s = 0; s < rain.length; s++) {
      const x = Math.floor(x0 + dx * s),
        y = Math.floor(y0 + dy * s)
      if (x < 0 || y < 0 || x >= W || y >= H) break
      const o = (y * W + x) * C
      for (let c = 0; c < C; c++) data[o + c] = (data[o + c]! + 230) >> 1
    }
  }
}

const clamp = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v))
