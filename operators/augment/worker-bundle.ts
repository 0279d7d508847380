/**
 * The worker threads' code as one plain-JavaScript script, bundled from augment-worker.ts by esbuild once per
 * process. Loading the TypeScript through tsx in each worker cost about 0.5 s of CPU per worker (its loader thread,
 * esbuild and the transforms), more than two seconds of a 500-frame shard's CPU on two cores; a bundle costs the
 * main thread a few milliseconds. Packages stay outside the bundle and are required from their installed paths.
 */
import { fileURLToPath } from 'node:url'

const ENTRY = fileURLToPath(new URL('./augment-worker.ts', import.meta.url))
// wasm-passes.ts finds the module next to itself through import.meta.url; in the bundle that is still its own URL.
const WASM_PASSES_URL = new URL('./wasm-passes.ts', import.meta.url).href

/** The script for `new Worker(script, { eval: true })`; null, with the reason, when there is none (tsx then loads the TypeScript). */
export type WorkerScript = { script: string } | { script: null; reason: string }

type Esbuild = typeof import('esbuild')

let bundle: Promise<WorkerScript> | undefined

/** Built once per process. */
export function workerScript(): Promise<WorkerScript> {
  bundle ??= buildWorkerScript()
  return bundle
}

/** Never rejects: without esbuild (not installed, or failing) the pool still works, through tsx. */
export async function buildWorkerScript(loadEsbuild: () => Promise<Esbuild> = () => import('esbuild')): Promise<WorkerScript> {
  try {
    return { script: await build(await loadEsbuild()) }
  } catch (err) {
    return { script: null, reason: `esbuild unavailable: ${err instanceof Error ? err.message : String(err)}` }
  }
}

async function build(esbuild: Esbuild): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
    define: { 'import.meta.url': JSON.stringify(WASM_PASSES_URL) },
  })
  const code = out.outputFiles[0]!.text
  // An eval'd worker's require resolves from the working directory: the bundle gets one that resolves from here.
  return `(function (require, module) {\n${code}\n;module.exports.serve(require('node:worker_threads').workerData)\n})(require('node:module').createRequire(${JSON.stringify(ENTRY)}), { exports: {} })`
}
