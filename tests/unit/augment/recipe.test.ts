import { describe, expect, it } from 'vitest'
import { parseRecipe, RecipeError } from '../../../operators/augment/recipe.ts'

function fieldOf(input: unknown): string {
  try {
    parseRecipe(input)
  } catch (err) {
    expect(err).toBeInstanceOf(RecipeError)
    expect((err as Error).message).toContain(`'${(err as RecipeError).field}'`)
    return (err as RecipeError).field
  }
  throw new Error('the recipe was accepted')
}

describe('augment recipe', () => {
  it('fills defaults for an empty recipe', () => {
    expect(parseRecipe(undefined)).toMatchObject({
      seed: 0,
      ops: {},
      output: { format: 'jpeg', quality: 90 },
      labels: { minVisibility: 0.1, tightBoxes: 'rotation' },
    })
    expect(parseRecipe({ ops: { flip: {} } }).ops.flip).toEqual({ p: 1 })
  })

  it('names the bad field', () => {
    expect(fieldOf({ seed: -1 })).toBe('seed')
    expect(fieldOf({ ops: { flip: { p: 1.5 } } })).toBe('ops.flip.p')
    expect(fieldOf({ ops: { crop: { p: 0.5 } } })).toBe('ops.crop.scale')
    expect(fieldOf({ ops: { crop: { scale: [0.9, 0.5] } } })).toBe('ops.crop.scale')
    expect(fieldOf({ ops: { blur: { sigma: [0.1, 1] } } })).toBe('ops.blur.sigma.0')
    expect(fieldOf({ ops: { rotate: { p: 1 } } })).toBe('ops')
    expect(fieldOf({ ops: { affine: { rotate: [-5, 90] } } })).toBe('ops.affine.rotate.1')
    expect(fieldOf({ labels: { minVisibility: 2 } })).toBe('labels.minVisibility')
    expect(fieldOf({ output: { format: 'webp' } })).toBe('output.format')
    expect(fieldOf({ output: { width: 320 } })).toBe('output.height')
  })

  it('refuses unknown keys, naming where', () => {
    const err = (() => {
      try {
        parseRecipe({ ops: { flip: { p: 1, prob: 1 } } })
      } catch (e) {
        return e as RecipeError
      }
    })()!
    expect(err.field).toBe('ops.flip')
    expect(err.message).toMatch(/prob/)
    expect(err.nonRetryable).toBe(true)
  })
})
