import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { markRunnerUsed, pruneRunnerCache, UNUSED_RUNNER_MS } from '../../../runtime/prebuilt/prune-cache.ts'

const HOUR = 3600_000

describe('pruning the prebuilt runner cache', () => {
  let root: string
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  /** A runner folder whose manifest was last touched `ageMs` ago. */
  const runner = (name: string, ageMs: number) => {
    const dir = join(root, name)
    mkdirSync(join(dir, 'dags'), { recursive: true })
    writeFileSync(join(dir, 'manifest.json'), '{}')
    const at = new Date(Date.now() - ageMs)
    utimesSync(join(dir, 'manifest.json'), at, at)
    return dir
  }

  it('deletes runner folders unused for a day and dead builds, keeping the current one, recent ones and other files', () => {
    root = mkdtempSync(join(tmpdir(), 'forge-prune-'))
    const current = runner('runner-current', 10 * UNUSED_RUNNER_MS)
    runner('runner-old', UNUSED_RUNNER_MS + HOUR)
    runner('runner-recent', UNUSED_RUNNER_MS - HOUR)
    const deadBuild = join(root, 'runner-x.tmp-1-abc')
    mkdirSync(deadBuild)
    utimesSync(deadBuild, new Date(Date.now() - 2 * HOUR), new Date(Date.now() - 2 * HOUR))
    mkdirSync(join(root, 'runner-y.tmp-2-def'))
    mkdirSync(join(root, 'augment-worker'))
    utimesSync(join(root, 'augment-worker'), new Date(0), new Date(0))

    expect(pruneRunnerCache(root, current).sort()).toEqual(['runner-old', 'runner-x.tmp-1-abc'])
    expect(readdirSync(root).sort()).toEqual(['augment-worker', 'runner-current', 'runner-recent', 'runner-y.tmp-2-def'])
  })

  it('keeps a folder that a long-lived scheduler still starts runners from', () => {
    root = mkdtempSync(join(tmpdir(), 'forge-prune-'))
    const inUse = runner('runner-in-use', UNUSED_RUNNER_MS + HOUR)
    markRunnerUsed(inUse)
    expect(pruneRunnerCache(root, runner('runner-current', 0))).toEqual([])
    expect(existsSync(inUse)).toBe(true)
  })
})
