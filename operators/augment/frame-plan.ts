/**
 * What happens to one frame: the recipe's random choices drawn once per frame (independently of image size), and
 * from them each sensor's geometry in pixels. All sensors of a frame share the choices, so masks stay aligned with
 * the colour image.
 */
import type { OpName, Recipe } from './recipe.ts'
import { frameRandom, uniform } from './frame-random.ts'
import { compose, cropMatrix, flipMatrix, IDENTITY, rotateScaleAbout, type Affine } from './geometry.ts'

export interface FramePlan {
  /** Ops that fired, in the order they apply. */
  applied: OpName[]
  flip: boolean
  /** Window as fractions: side scale, aspect change, and position of its top-left in the free range [0, 1]. */
  crop: { scale: number; ratio: number; u: number; v: number } | null
  affine: { rotate: number; scale: number; fill: number } | null
  brightness: number
  contrast: number
  gamma: number | null
  blur: number | null
  noise: { sigma: number; seed: number } | null
  jpegQuality: number | null
  fog: number | null
  rain: { drops: number; length: number; slant: number; seed: number } | null
}

/** Draws the frame's choices. Each op has its own stream: whether it fires, then its parameters. */
export function planFrame(recipe: Recipe, shard: string, frame: number): FramePlan {
  const plan: FramePlan = {
    applied: [],
    flip: false,
    crop: null,
    affine: null,
    brightness: 0,
    contrast: 1,
    gamma: null,
    blur: null,
    noise: null,
    jpegQuality: null,
    fog: null,
    rain: null,
  }
  const draw = (op: OpName, p: number | undefined): (() => number) | null => {
    if (p === undefined) return null
    const rng = frameRandom(recipe.seed, shard, frame, op)
    if (!(rng() < p)) return null
    plan.applied.push(op)
    return rng
  }
  const o = recipe.ops
  if (draw('flip', o.flip?.p)) plan.flip = true
  let r = draw('crop', o.crop?.p)
  if (r) plan.crop = { scale: uniform(r, o.crop!.scale), ratio: uniform(r, o.crop!.ratio), u: r(), v: r() }
  if ((r = draw('brightness', o.brightness?.p))) plan.brightness = uniform(r, o.brightness!.range)
  if ((r = draw('contrast', o.contrast?.p))) plan.contrast = uniform(r, o.contrast!.range)
  if ((r = draw('gamma', o.gamma?.p))) plan.gamma = uniform(r, o.gamma!.range)
  if ((r = draw('affine', o.affine?.p)))
    plan.affine = { rotate: uniform(r, o.affine!.rotate), scale: uniform(r, o.affine!.scale), fill: o.affine!.fill }
  if ((r = draw('blur', o.blur?.p))) plan.blur = uniform(r, o.blur!.sigma)
  if ((r = draw('noise', o.noise?.p))) plan.noise = { sigma: uniform(r, o.noise!.sigma), seed: Math.floor(r() * 2 ** 32) }
  if ((r = draw('fog', o.fog?.p))) plan.fog = uniform(r, o.fog!.density)
  if ((r = draw('rain', o.rain?.p))) {
    plan.rain = {
      drops: Math.round(uniform(r, o.rain!.drops)),
      length: uniform(r, o.rain!.length),
      slant: uniform(r, o.rain!.slant),
      seed: Math.floor(r() * 2 ** 32),
    }
  }
  if ((r = draw('jpeg', o.jpeg?.p))) plan.jpegQuality = Math.round(uniform(r, o.jpeg!.quality))
  return plan
}

/** A sensor's geometry: the sharp stage (flip, integer crop window, resize) and the affine the pixels then get. */
export interface SensorGeometry {
  inW: number
  inH: number
  outW: number
  outH: number
  flip: boolean
  /** Window in the flipped image, integer pixels; the whole image when there is no crop. */
  window: { x: number; y: number; w: number; h: number }
  /** Rotation/scale about the output centre, applied after the resize; null when the affine op did not fire. */
  affine: Affine | null
  /** Input pixel coordinates → output pixel coordinates, everything composed (for labels). */
  matrix: Affine
}

export function sensorGeometry(plan: FramePlan, inW: number, inH: number, out?: { width?: number; height?: number }): SensorGeometry {
  const outW = out?.width ?? inW
  const outH = out?.height ?? inH
  let window = { x: 0, y: 0, w: inW, h: inH }
  if (plan.crop) {
    const s = Math.sqrt(plan.crop.ratio)
    const w = clampInt(Math.round(inW * plan.crop.scale * s), 1, inW)
    const h = clampInt(Math.round(inH * (plan.crop.scale / s)), 1, inH)
    window = { x: Math.floor(plan.crop.u * (inW - w + 1)), y: Math.floor(plan.crop.v * (inH - h + 1)), w, h }
    window.x = Math.min(window.x, inW - w)
    window.y = Math.min(window.y, inH - h)
  }
  let matrix = plan.flip ? flipMatrix(inW) : IDENTITY
  matrix = compose(cropMatrix(window.x, window.y, window.w, window.h, outW, outH), matrix)
  let affine: Affine | null = null
  if (plan.affine) {
    affine = rotateScaleAbout(plan.affine.rotate, plan.affine.scale, outW / 2, outH / 2)
    matrix = compose(affine, matrix)
  }
  return { inW, inH, outW, outH, flip: plan.flip, window, affine, matrix }
}

const clampInt = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n))
