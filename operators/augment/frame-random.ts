/**
 * Per-frame randomness: each (recipe seed, shard, frame, op) gets its own PRNG stream, so a frame's choices do not
 * depend on which worker draws them, in what order frames run, or whether another op is switched on.
 */
import { seededRandom } from '../carla/generate/seeded-random.ts'

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

export type Rng = () => number

export function frameRandom(seed: number, shard: string, frame: number, stream: string): Rng {
  return seededRandom(fnv1a(`${seed}\u0000${shard}\u0000${frame}\u0000${stream}`))
}

/** Uniform in [lo, hi]; exactly lo when the range is a single value. */
export const uniform = (rng: Rng, [lo, hi]: readonly [number, number]): number => (lo === hi ? lo : lo + (hi - lo) * rng())

/** Standard normal draws (Box-Muller), two per pair of uniforms. */
export function gaussian(rng: Rng): () => number {
  let spare: number | null = null
  return () => {
    if (spare !== null) {
      const s = spare
      spare = null
      return s
    }
    const u = Math.max(rng(), 1e-12)
    const v = rng()
    const r = Math.sqrt(-2 * Math.log(u))
    spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
}
