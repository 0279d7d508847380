/**
 * The augmentation recipe: a declarative, seeded description of which transforms may apply to a frame, each with
 * a probability and ranges. Validated with zod; a bad recipe is refused naming the field, before any file is read.
 */
import { z } from 'zod'
import { TaskFailure } from '../../runtime/index.ts'

/** [min, max] with min <= max; a single value (min === max) makes the parameter fixed. */
const range = (lo: number, hi: number) =>
  z.tuple([z.number().min(lo).max(hi), z.number().min(lo).max(hi)]).refine(([a, b]) => a <= b, { message: 'a range is [min, max] with min <= max' })

const p = z.number().min(0).max(1).default(1)

const ops = z
  .object({
    /** Horizontal flip (mirror left-right). */
    flip: z.object({ p: p }).strict().optional(),
    /** A random window, `scale` its side as a fraction of the image's, `ratio` the change of aspect; resized back. */
    crop: z
      .object({ p, scale: range(0.05, 1), ratio: range(0.25, 4).default([1, 1]) })
      .strict()
      .optional(),
    /** Rotation (degrees, counter-clockwise on screen) and scale about the image centre; `fill` paints uncovered pixels. */
    affine: z
      .object({ p, rotate: range(-45, 45).default([0, 0]), scale: range(0.5, 2).default([1, 1]), fill: z.number().int().min(0).max(255).default(0) })
      .strict()
      .optional(),
    /** Additive brightness, as a fraction of full scale. */
    brightness: z
      .object({ p, range: range(-1, 1) })
      .strict()
      .optional(),
    /** Contrast factor about mid-grey. */
    contrast: z
      .object({ p, range: range(0, 4) })
      .strict()
      .optional(),
    /** out = 255·(in/255)^gamma. */
    gamma: z
      .object({ p, range: range(0.1, 5) })
      .strict()
      .optional(),
    /** Gaussian blur, sigma in pixels (libvips needs at least 0.3). */
    blur: z
      .object({ p, sigma: range(0.3, 50) })
      .strict()
      .optional(),
    /** Additive Gaussian noise, sigma in grey levels. */
    noise: z
      .object({ p, sigma: range(0, 128) })
      .strict()
      .optional(),
    /** JPEG compression artefacts at a random quality. */
    jpeg: z
      .object({ p, quality: range(1, 100) })
      .strict()
      .optional(),
    /** A grey haze, densest at the top of the image. */
    fog: z
      .object({ p, density: range(0, 1) })
      .strict()
      .optional(),
    /** Bright slanted streaks. */
    rain: z
      .object({ p, drops: range(0, 5000), length: range(1, 200).default([10, 25]), slant: range(-45, 45).default([-10, 10]) })
      .strict()
      .optional(),
  })
  .strict()

export const recipeSchema = z
  .object({
    /** With the shard name and frame number, the seed of each frame's random choices. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(0),
    ops: ops.default({}),
    output: z
      .object({
        /** Colour frames; depth and segmentation images are always written as lossless PNG. */
        format: z.enum(['jpeg', 'png']).default('jpeg'),
        quality: z.number().int().min(1).max(100).default(90),
        /** Output size (default: each sensor's input size). */
        width: z.number().int().min(8).max(16384).optional(),
        height: z.number().int().min(8).max(16384).optional(),
      })
      .strict()
      .default({ format: 'jpeg', quality: 90 }),
    labels: z
      .object({
        /** Keep a box when its visible area / transformed area >= this (inclusive). */
        minVisibility: z.number().min(0).max(1).default(0.1),
        /** When to recompute boxes from a segmentation image: after a rotation (default), always, or never. */
        tightBoxes: z.enum(['rotation', 'always', 'never']).default('rotation'),
      })
      .strict()
      .default({ minVisibility: 0.1, tightBoxes: 'rotation' }),
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.output.width === undefined) !== (r.output.height === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['output', r.output.width === undefined ? 'width' : 'height'],
        message: 'give output width and height together',
      })
    }
  })

export type RecipeInput = z.input<typeof recipeSchema>
export type Recipe = z.output<typeof recipeSchema>
export type OpName = keyof Recipe['ops']
export const OP_NAMES = Object.keys(ops.shape) as OpName[]

/** A bad recipe: non-retryable, with the dotted path of the first bad field. */
export class RecipeError extends TaskFailure {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, 'RecipeError', true)
  }
}

export function parseRecipe(input: unknown): Recipe {
  const r = recipeSchema.safeParse(input ?? {})
  if (r.success) return r.data
  const issue = r.error.issues[0]!
  const field = issue.path.map(String).join('.') || '(root)'
  throw new RecipeError(`augment recipe field '${field}': ${issue.message}`, field)
}
