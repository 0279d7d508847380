import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const FORGE = fileURLToPath(new URL('../../runtime/cli/forge.mjs', import.meta.url))
export const RUNTIME = fileURLToPath(new URL('../../runtime/index.ts', import.meta.url))
const run = promisify(execFile)

export interface ForgeResult {
  code: number
  stdout: string
  stderr: string
}

/** A fresh FORGE_HOME with a dags/ folder, and an environment for the real `forge` bin (embedded store unless a URL is given). */
export function forgeHome(prefix: string, databaseUrl: string | null = null): { home: string; dags: string; env: Record<string, string> } {
  const home = mkdtempSync(join(tmpdir(), prefix))
  const dags = join(home, 'dags')
  mkdirSync(dags)
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    FORGE_HOME: join(home, 'state'),
    FORGE_DAGS_FOLDER: dags,
    FORGE_LOG_LEVEL: 'warn',
  }
  delete env.FORGE_DATABASE_URL
  if (databaseUrl) env.FORGE_DATABASE_URL = databaseUrl
  return { home, dags, env }
}

/** Runs `forge ARGS` to the end and returns its exit code and output (never throws on a non-zero exit). */
export async function forge(env: Record<string, string>, ...args: string[]): Promise<ForgeResult> {
  try {
    const r = await run(process.execPath, [FORGE, ...args], { env, timeout: 300_000 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** Starts a long-running `forge ARGS` (standalone, scheduler); its stderr accumulates in `stderr()`. */
export function spawnForge(
  env: Record<string, string>,
  ...args: string[]
): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [FORGE, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (b: Buffer) => void (err += b.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, stderr: () => err, exited }
}

/** Polls `check` until it returns true or `ms` pass; the bound is generous because nothing here measures speed. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
