/**
 * AssemblyScript source of resample.wasm: the crop-flip-resize pass of resize-window.ts with 128-bit SIMD, for
 * interleaved RGB. Fixed-point bilinear with 11-bit weights, as OpenCV's INTER_LINEAR: the horizontal pass keeps
 * value·128 in 16 bits, the vertical one blends two such rows with a rounding Q15 multiply. Every step is integer
 * arithmetic that fixed-point.ts repeats in TypeScript bit for bit, so both give the same bytes.
 * Build: npm run build:wasm (the test wasm-build.test.ts checks the committed binary against this source).
 *
 * Memory is laid out by the caller (simd-resample.ts); all pointers are byte offsets:
 * - src: the source rows the pass reads, `stride` bytes each, with 16 bytes of slack after the last;
 * - xtab: per output column two i32, the byte offset of its left source pixel in a row and (2048 − b) | b << 16;
 * - ytab: per output row two i32, its upper source row (relative to src) and the lower row's Q15 weight b·16;
 * - rows: two row slots of `outW·3` i16 each, each `slot` bytes apart (16 bytes of slack);
 * - out: outW·outH·3 bytes, 16 bytes of slack; lut: 256 bytes.
 */

/** Where the caller may start its data: everything below belongs to this module. */
export function heapBase(): usize {
  return __heap_base
}

/** Tone modes: none, linear (out = (v·scale + offset) >> 19, clamped), table (out = lut[round(v)]). */
const TONE_LINEAR = 1
const TONE_TABLE = 2

export function resample(
  src: usize,
  stride: i32,
  xtab: usize,
  outW: i32,
  ytab: usize,
  outH: i32,
  rows: usize,
  slot: i32,
  out: usize,
  tone: i32,
  scale: i32,
  offset: i32,
  lut: usize,
): void {
  const n = outW * 3
  const slot0 = rows
  const slot1 = rows + <usize>slot
  // Source row held by each slot: rows only move down, so two slots serve every output row.
  let held0 = -1
  let held1 = -1
  for (let y = 0; y < outH; y++) {
    const upper = load<i32>(ytab + ((<usize>y) << 3))
    const weight = load<i32>(ytab + ((<usize>y) << 3), 4)
    const lower = weight == 0 ? upper : upper + 1
    if (held0 != upper && held1 != upper) {
      if (held0 == lower) {
        horizontal(src + <usize>(upper * stride), xtab, outW, slot1)
        held1 = upper
      } else {
        horizontal(src + <usize>(upper * stride), xtab, outW, slot0)
        held0 = upper
      }
    }
    if (held0 != lower && held1 != lower) {
      if (held0 == upper) {
        horizontal(src + <usize>(lower * stride), xtab, outW, slot1)
        held1 = lower
      } else {
        horizontal(src + <usize>(lower * stride), xtab, outW, slot0)
        held0 = lower
      }
    }
    const r0 = held0 == upper ? slot0 : slot1
    const r1 = held0 == lower ? slot0 : slot1
    const dst = out + <usize>(y * n)
    vertical(r0, r1, weight, n, dst, tone, scale, offset)
    if (tone == TONE_TABLE) for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, load<u8>(lut + <usize>load<u8>(dst + <usize>i)))
  }
}

/**
 * One source row to `outW·3` i16 of value·128: per output pixel the pair (left, right) is swizzled to
 * [r0 r1 g0 g1 b0 b1 0 0] and dotted with (a, b) in every pair of lanes; four pixels are packed into 24 bytes.
 */
function horizontal(row: usize, xtab: usize, outW: i32, dst: usize): void {
  let x = 0
  for (; x + 4 <= outW; x += 4) {
    const p = xtab + ((<usize>x) << 3)
    const a = i16x8.narrow_i32x4_s(pixel(row, p), pixel(row, p + 8))
    const b = i16x8.narrow_i32x4_s(pixel(row, p + 16), pixel(row, p + 24))
    v128.store(dst, v128.shuffle<i16>(a, b, 0, 1, 2, 4, 5, 6, 8, 9))
    // 8 of these 16 bytes are the pixels; the rest is overwritten by the next store or lies in the slot's slack.
    v128.store(dst, v128.shuffle<i16>(b, b, 2, 4, 5, 6, 0, 0, 0, 0), 16)
    dst += 24
  }
  for (; x < outW; x++) {
    const p = xtab + ((<usize>x) << 3)
    const i = row + <usize>load<i32>(p)
    const w = load<i32>(p, 4)
    const wa = w & 0xffff
    const wb = w >>> 16
    for (let c = 0; c < 3; c++) {
      const h = <i32>load<u8>(i + <usize>c) * wa + <i32>load<u8>(i + <usize>c, 3) * wb
      store<i16>(dst, <i16>((h + 8) >> 4))
      dst += 2
    }
  }
}

function pixel(row: usize, p: usize): v128 {
  const pair = v128.load64_zero(row + <usize>load<i32>(p))
  // Lanes ≥ 16 of a swizzle read as zero: this widens the bytes to i16 while interleaving the two pixels.
  const wide = i8x16.swizzle(pair, i8x16(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1))
  // [a b a b a b a b]: the swizzle's two zero lanes cancel the last pair.
  const weights = i32x4.splat(load<i32>(p, 4))
  return i32x4.shr_s(i32x4.add(i32x4.dot_i16x8_s(wide, weights), i32x4.splat(8)), 4)
}

/** Blends two rows of value·128 (v = r0 + q15(r1 − r0, weight)) and writes bytes, toned when the mode says so. */
function vertical(r0: usize, r1: usize, weight: i32, n: i32, dst: usize, tone: i32, scale: i32, offset: i32): void {
  const w = i16x8.splat(<i16>weight)
  const half = i16x8.splat(64)
  const s = i32x4.splat(scale)
  const o = i32x4.splat(offset)
  let k = 0
  for (; k + 16 <= n; k += 16) {
    const p = (<usize>k) << 1
    const a0 = v128.load(r0 + p)
    const b0 = v128.load(r0 + p, 16)
    const a = i16x8.add(a0, i16x8.q15mulr_sat_s(i16x8.sub(v128.load(r1 + p), a0), w))
    const b = i16x8.add(b0, i16x8.q15mulr_sat_s(i16x8.sub(v128.load(r1 + p, 16), b0), w))
    let bytes: v128
    if (tone == TONE_LINEAR) {
      const a1 = i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_s(a), s), o), 19)
      const a2 = i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_high_i16x8_s(a), s), o), 19)
      const b1 = i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_s(b), s), o), 19)
      const b2 = i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_high_i16x8_s(b), s), o), 19)
      bytes = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(a1, a2), i16x8.narrow_i32x4_s(b1, b2))
    } else {
      bytes = i8x16.narrow_i16x8_u(i16x8.shr_u(i16x8.add(a, half), 7), i16x8.shr_u(i16x8.add(b, half), 7))
    }
    v128.store(dst + <usize>k, bytes)
  }
  for (; k < n; k++) {
    const p = (<usize>k) << 1
    const v0 = <i32>load<i16>(r0 + p)
    const v = v0 + (((<i32>load<i16>(r1 + p) - v0) * weight + 16384) >> 15)
    let q: i32
    if (tone == TONE_LINEAR) {
      q = (v * scale + offset) >> 19
      q = q < 0 ? 0 : q > 255 ? 255 : q
    } else q = (v + 64) >> 7
    store<u8>(dst + <usize>k, <u8>q)
  }
}

/**
 * Separable Gaussian blur of an RGB image in place, edges replicated. `kw` holds per tap distance 0..r the Q15
 * weight (the taps sum to 32768) splatted over 8 lanes. Rows first: u8 → i16 of value·64; then columns: i16 → u8.
 * Symmetric taps are added before their rounding Q15 multiply. `pad` holds one row with r replicated pixels on
 * each side, at least 8·(r + 1) bytes; `tmp` the whole image of i16.
 */
export function blur(img: usize, width: i32, height: i32, r: i32, kw: usize, pad: usize, tmp: usize): void {
  const n = width * 3
  const left = pad + <usize>(r * 3)
  const k0 = v128.load(kw)
  for (let y = 0; y < height; y++) {
    const row = img + <usize>(y * n)
    memory.copy(left, row, <usize>n)
    for (let i = 1; i <= r; i++) {
      memory.copy(left - <usize>(i * 3), row, 3)
      memory.copy(left + <usize>(n + (i - 1) * 3), row + <usize>(n - 3), 3)
    }
    const dst = tmp + ((<usize>(y * n)) << 1)
    let k = 0
    for (; k + 8 <= n; k += 8) {
      const c = left + <usize>k
      let acc = i16x8.q15mulr_sat_s(i16x8.shl(v128.load8x8_u(c), 6), k0)
      for (let i = 1; i <= r; i++) {
        const d = <usize>(i * 3)
        const pair = i16x8.shl(i16x8.add(v128.load8x8_u(c - d), v128.load8x8_u(c + d)), 6)
        acc = i16x8.add(acc, i16x8.q15mulr_sat_s(pair, v128.load(kw + ((<usize>i) << 4))))
      }
      v128.store(dst + ((<usize>k) << 1), acc)
    }
    for (; k < n; k++) {
      const c = left + <usize>k
      let acc = q15((<i32>load<u8>(c)) << 6, <i32>load<i16>(kw))
      for (let i = 1; i <= r; i++) {
        const d = <usize>(i * 3)
        acc += q15((<i32>load<u8>(c - d) + <i32>load<u8>(c + d)) << 6, <i32>load<i16>(kw + ((<usize>i) << 4)))
      }
      store<i16>(dst + ((<usize>k) << 1), <i16>acc)
    }
  }
  const round = i16x8.splat(32)
  const last = height - 1
  // Per tap distance, the two source rows' addresses for the current output row (the row pad is free by now).
  const rowsAt = pad
  for (let y = 0; y < height; y++) {
    const mid = tmp + ((<usize>(y * n)) << 1)
    const out = img + <usize>(y * n)
    for (let i = 1; i <= r; i++) {
      store<u32>(rowsAt + ((<usize>i) << 3), <u32>(tmp + ((<usize>((y - i < 0 ? 0 : y - i) * n)) << 1)))
      store<u32>(rowsAt + ((<usize>i) << 3), <u32>(tmp + ((<usize>((y + i > last ? last : y + i) * n)) << 1)), 4)
    }
    let k = 0
    for (; k + 16 <= n; k += 16) {
      const p = (<usize>k) << 1
      let a = i16x8.q15mulr_sat_s(v128.load(mid + p), k0)
      let b = i16x8.q15mulr_sat_s(v128.load(mid + p, 16), k0)
      for (let i = 1; i <= r; i++) {
        const up = <usize>load<u32>(rowsAt + ((<usize>i) << 3)) + p
        const down = <usize>load<u32>(rowsAt + ((<usize>i) << 3), 4) + p
        const w = v128.load(kw + ((<usize>i) << 4))
        a = i16x8.add(a, i16x8.q15mulr_sat_s(i16x8.add(v128.load(up), v128.load(down)), w))
        b = i16x8.add(b, i16x8.q15mulr_sat_s(i16x8.add(v128.load(up, 16), v128.load(down, 16)), w))
      }
      v128.store(out + <usize>k, i8x16.narrow_i16x8_u(i16x8.shr_s(i16x8.add(a, round), 6), i16x8.shr_s(i16x8.add(b, round), 6)))
    }
    for (; k < n; k++) {
      const p = (<usize>k) << 1
      let acc = q15(<i32>load<i16>(mid + p), <i32>load<i16>(kw))
      for (let i = 1; i <= r; i++) {
        const up = tmp + ((<usize>((y - i < 0 ? 0 : y - i) * n)) << 1) + p
        const down = tmp + ((<usize>((y + i > last ? last : y + i) * n)) << 1) + p
        acc += q15(<i32>load<i16>(up) + <i32>load<i16>(down), <i32>load<i16>(kw + ((<usize>i) << 4)))
      }
      const q = (acc + 32) >> 6
      store<u8>(out + <usize>k, <u8>(q < 0 ? 0 : q > 255 ? 255 : q))
    }
  }
}

/** i16x8.q15mulr_sat_s on one lane (the operands here never saturate). */
function q15(a: i32, b: i32): i32 {
  return (a * b + 16384) >> 15
}
