import { describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import { compileResampler, RESAMPLE_WASM } from '../../../operators/augment/wasm/build-wasm.ts'

describe('operators/augment/wasm/resample.wasm', () => {
  it('is what its AssemblyScript source compiles to (rebuild with npm run build:wasm)', async () => {
    const built = Buffer.from(await compileResampler())
    const committed = await readFile(RESAMPLE_WASM)
    expect(built.length).toBeGreaterThan(0)
    expect(committed.equals(built)).toBe(true)
  })
})
