import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../runtime/config.ts'

describe('FORGE_MAX_MAP_WIDTH', () => {
  it('defaults to 10,000 and takes a positive integer', () => {
    expect(loadConfig({}).maxMapWidth).toBe(10_000)
    expect(loadConfig({ FORGE_MAX_MAP_WIDTH: '1024' }).maxMapWidth).toBe(1024)
  })

  it('refuses zero or a non-integer, naming the variable', () => {
    expect(() => loadConfig({ FORGE_MAX_MAP_WIDTH: '0' })).toThrow(/FORGE_MAX_MAP_WIDTH="0" must be an integer >= 1/)
    expect(() => loadConfig({ FORGE_MAX_MAP_WIDTH: 'wide' })).toThrow(/FORGE_MAX_MAP_WIDTH/)
  })
})
