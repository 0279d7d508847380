/**
 * Builds operators/augment/wasm/resample.wasm from its AssemblyScript source (`npm run build:wasm`). The binary is
 * committed so that installing the package needs no compiler; tests/unit/augment/wasm-build.test.ts compiles the
 * source again with these same options and checks the committed bytes are what it gives.
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import asc from 'assemblyscript/asc'

export const RESAMPLE_SOURCE = fileURLToPath(new URL('./resample.as.ts', import.meta.url))
export const RESAMPLE_WASM = fileURLToPath(new URL('./resample.wasm', import.meta.url))

/** No GC or allocator (the caller lays out memory), no assertions, SIMD on, optimised for speed. */
const OPTIONS = ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--initialMemory', '1']

/** The module's bytes, compiled in memory. */
export async function compileResampler(): Promise<Uint8Array> {
  let binary: Uint8Array | null = null
  const stderr: string[] = []
  const { error } = await asc.main([RESAMPLE_SOURCE, '--outFile', 'resample.wasm', ...OPTIONS], {
    writeFile(name: string, contents: string | Uint8Array) {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents
    },
    stderr: { write: (chunk: string | Uint8Array) => (stderr.push(String(chunk)), true) } as never,
  })
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.join('')}`)
  if (!binary) throw new Error(`asc wrote no binary\n${stderr.join('')}`)
  return binary
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(RESAMPLE_WASM, await compileResampler())
  console.log(`wrote ${RESAMPLE_WASM}`)
}
