import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ConfigError } from '../errors.ts'

/**
 * PGlite is an in-process database: two processes opening one data dir would corrupt it. A pid file refuses the
 * second opener with a message saying what to do, and a stale file (its process gone) is taken over.
 */
export function acquireHomeLock(dataDir: string): () => void {
  mkdirSync(dirname(dataDir), { recursive: true })
  const file = join(dirname(dataDir), 'pglite.lock')
  try {
    const pid = Number(readFileSync(file, 'utf8'))
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new ConfigError(
        `the embedded store ${dataDir} is in use by process ${pid}; stop it, or set FORGE_DATABASE_URL to a Postgres ` +
          'database so several forge processes can share state',
      )
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err
  }
  writeFileSync(file, String(process.pid))
  return () => rmSync(file, { force: true })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
