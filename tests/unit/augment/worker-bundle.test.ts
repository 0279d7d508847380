import { describe, expect, it } from 'vitest'
import { buildWorkerScript } from '../../../operators/augment/worker-bundle.ts'

describe('the augment worker script', () => {
  it('is an esbuild bundle when esbuild loads', async () => {
    const built = await buildWorkerScript()
    expect(built.script).toMatch(/module\.exports\.serve\(/)
  })

  it('is null with the reason when esbuild cannot be loaded, so the pool falls back to tsx instead of failing', async () => {
    const built = await buildWorkerScript(() => Promise.reject(new Error("Cannot find package 'esbuild'")))
    expect(built).toEqual({ script: null, reason: "esbuild unavailable: Cannot find package 'esbuild'" })
  })
})
