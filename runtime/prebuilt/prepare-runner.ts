import { buildCacheRoot } from './build-cache.ts'
import { ensureRunnerBundle, type RunnerBundle } from './runner-bundle.ts'

/**
 * The prebuilt runner for this installation (found in the cache or built now, typically a second of esbuild on a
 * runtime edit), or null after logging why it could not be built: the pool then starts runners through tsx.
 */
export async function prepareRunnerBundle(home: string, log: (line: string) => void): Promise<RunnerBundle | null> {
  try {
    return await ensureRunnerBundle(buildCacheRoot(home))
  } catch (err) {
    log(`forge: the prebuilt task runner could not be built, so runners start through tsx: ${err instanceof Error ? err.message : String(err)}`)
    return null
  }
}
