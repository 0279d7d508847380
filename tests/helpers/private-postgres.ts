import { execFile, execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * A PostgreSQL cluster of a test's own (initdb in a temp folder, its own port and socket folder), for tests that
 * must stop or restart the server: the shared server on 5432 serves every other test file at the same time.
 */
export interface PrivatePostgres {
  /** A URL for the cluster's `postgres` database, as the superuser `postgres` (trust auth, 127.0.0.1). */
  adminUrl: string
  port: number
  /** `pg_ctl restart -m fast`: every connection is dropped, and the server answers again when it returns. */
  restart(): Promise<void>
  /** Stops the cluster (immediately) and deletes its folder; safe to call twice. */
  destroy(): Promise<void>
}

/** The folder with initdb, pg_ctl and postgres: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBinDir(): string | null {
  const has = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(dir, b)))
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (dir && has(dir)) return dir
  } catch {
    // no pg_config on PATH
  }
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
  for (const v of versions) if (has(join(root, v, 'bin'))) return join(root, v, 'bin')
  return null
}

/** The OS user the cluster runs as: initdb refuses root, so root runs it as `postgres` through runuser. */
function clusterUser(): { asUser: (cmd: string, args: string[]) => [string, string[]]; uid?: number; gid?: number } | string {
  if (process.getuid?.() !== 0) return { asUser: (cmd, args) => [cmd, args] }
  let ids: [number, number]
  try {
    ids = [Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }))]
  } catch {
    return 'running as root, and there is no `postgres` OS user to run initdb as'
  }
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser') && !existsSync('/usr/bin/runuser'))
    return 'running as root, and runuser is missing'
  return { asUser: (cmd, args) => ['runuser', ['-u', 'postgres', '--', cmd, ...args]], uid: ids[0], gid: ids[1] }
}

/** Why a private cluster cannot be started here, or null when it can. */
export function privatePostgresUnavailable(): string | null {
  if (!postgresBinDir()) return 'no PostgreSQL server binaries (pg_config --bindir, /usr/lib/postgresql/*/bin)'
  const user = clusterUser()
  return typeof user === 'string' ? user : null
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/** Running clusters, for the exit hook: a test worker that dies must not leave a postmaster behind. */
const live = new Map<string, () => void>()
process.once('exit', () => {
  for (const stop of live.values()) stop()
})

/**
 * Starts a fresh cluster (trust auth, fsync off: its data is thrown away) and waits until it accepts connections.
 * Whatever fails on the way, what was started is stopped and the folder removed before the error is thrown.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir()
  const user = clusterUser()
  if (!bin || typeof user === 'string') throw new Error(`no private PostgreSQL: ${privatePostgresUnavailable()}`)
  const dir = mkdtempSync(join(tmpdir(), 'forge-pg-'))
  const data = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!)
  const pgCtl = async (...args: string[]) => {
    const [cmd, argv] = user.asUser(join(bin, 'pg_ctl'), ['-D', data, ...args])
    await run(cmd, argv, { timeout: 60_000 })
  }
  const stopNow = () => {
    try {
      const [cmd, argv] = user.asUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
      if (existsSync(join(data, 'postmaster.pid'))) execFileSync(cmd, argv, { stdio: 'ignore', timeout: 30_000 })
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true })
    live.delete(dir)
  }
  live.set(dir, stopNow)
  try {
    const port = await freePort()
    const [cmd, argv] = user.asUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'])
    await run(cmd, argv, { timeout: 120_000, env: { ...process.env, LC_ALL: 'C' } })
    // Settings in the file, not on pg_ctl's command line, so that a restart keeps them.
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dir}'`,
        'max_connections = 200',
        'fsync = off',
        'full_page_writes = off',
        'shared_buffers = 32MB',
        '',
      ].join('\n'),
    )
    if (user.uid !== undefined) {
      writeFileSync(logFile, '')
      chownSync(logFile, user.uid, user.gid!)
    }
    await pgCtl('-l', logFile, '-w', '-t', '60', 'start')
    return {
      adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      restart: () => pgCtl('-l', logFile, '-w', '-t', '60', '-m', 'fast', 'restart'),
      destroy: async () => stopNow(),
    }
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''
    stopNow()
    throw new Error(`could not start a private PostgreSQL in ${dir}: ${(err as Error).message}${log ? `\n${log}` : ''}`, { cause: err })
  }
}
