import { pathToFileURL } from 'node:url'
import { shortDigest } from '../dag/code-digest.ts'
import { LOADER_URL } from '../loader-url.ts'
import { compiledDag } from './dag-bundle.ts'
import { readRunnerBundle } from './runner-bundle.ts'

/** Imports a DAG file for an attempt, given the code digest its files have now; `log` writes to the attempt's log. */
export type DagImporter = (file: string, digest: string, log: (line: string) => void) => Promise<Record<string, unknown>>

/**
 * How a prebuilt runner imports DAG files: the file compiled with its local modules into one JavaScript module
 * (dag-bundle.ts, cached by code digest), whose `adas-forge` imports are this runner's own modules. When the file
 * cannot be compiled, the attempt's log says why and the runner registers tsx (runtime/loader.mjs) and imports the
 * TypeScript itself, as a runner without a prebuilt runtime does. An error the DAG's own code throws is the task's.
 */
export function prebuiltDagImporter(manifest: string): DagImporter {
  const bundle = readRunnerBundle(manifest)
  let tsx: Promise<unknown> | null = null
  return async (file, digest, log) => {
    let module: string
    try {
      const t0 = performance.now()
      const compiled = await compiledDag(bundle, file, digest)
      if (compiled.built)
        log(
          `${new Date().toISOString()} compiled ${file} (code ${shortDigest(digest)}) for the prebuilt runner in ${Math.round(performance.now() - t0)} ms`,
        )
      module = compiled.module
    } catch (err) {
      log(`${new Date().toISOString()} the prebuilt runner could not compile ${file}, so it runs through tsx: ${whyNot(err)}`)
      tsx ??= import(LOADER_URL)
      await tsx
      const ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>
      // A file tsx loaded as CommonJS comes back as { default: module.exports }: unwrap it as a TypeScript importer's
      // compiled import() would (this module is not compiled by tsx, so nothing else does).
      const cjs = ns.default as { __esModule?: boolean } | undefined
      return cjs && typeof cjs === 'object' && cjs.__esModule === true ? (cjs as Record<string, unknown>) : ns
    }
    // Stack traces through the DAG's code name its source files (the module's source map), not the cache.
    process.setSourceMapsEnabled(true)
    return (await import(pathToFileURL(module).href)) as Record<string, unknown>
  }
}

/** One line: esbuild's first error (its message lists them all, over several lines), else the error's message. */
function whyNot(err: unknown): string {
  const first = (err as { errors?: Array<{ text?: string }> }).errors?.[0]?.text
  return (first ?? (err instanceof Error ? err.message : String(err))).split('\n')[0]!
}
