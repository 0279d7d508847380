import { readdirSync, rmSync, statSync, utimesSync } from 'node:fs'
import { join } from 'node:path'

/** A runner folder no runner has started from for this long is deleted (each runtime edit leaves one behind). */
export const UNUSED_RUNNER_MS = 24 * 3600_000
/** A build takes seconds: a temporary folder this old was left by a build that died. */
const STALE_BUILD_MS = 3600_000

/** Notes that a runner starts from `dir` now (its manifest's mtime), which keeps the folder from being pruned. */
export function markRunnerUsed(dir: string): void {
  try {
    const now = new Date()
    utimesSync(join(dir, 'manifest.json'), now, now)
  } catch {
    // A folder pruned or replaced meanwhile: the runner's own start reports what is missing.
  }
}

/**
 * Deletes the runner folders under `root` that no runner started from for `unusedMs`, and the temporary folders of
 * builds that died, keeping `current`. A folder that a long-lived scheduler still uses is kept by its runners'
 * starts (markRunnerUsed). Returns the names it deleted.
 */
export function pruneRunnerCache(root: string, current: string, unusedMs = UNUSED_RUNNER_MS, now = Date.now()): string[] {
  const deleted: string[] = []
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    return deleted
  }
  for (const name of names) {
    const dir = join(root, name)
    if (!name.startsWith('runner-') || dir === current) continue
    const temporary = name.includes('.tmp-')
    const age = now - lastUse(dir, temporary)
    if (age <= (temporary ? STALE_BUILD_MS : unusedMs)) continue
    rmSync(dir, { recursive: true, force: true })
    deleted.push(name)
  }
  return deleted
}

/** When a runner last started from `dir` (its manifest's mtime; a temporary or broken folder: the folder's own). */
function lastUse(dir: string, temporary: boolean): number {
  try {
    return statSync(temporary ? dir : join(dir, 'manifest.json')).mtimeMs
  } catch {
    try {
      return statSync(dir).mtimeMs
    } catch {
      return Date.now()
    }
  }
}
