import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { ExecutorEvent } from '../../../runtime/executors/executor.ts'
import { living } from '../../helpers/processes.ts'

const ATTEMPT = fileURLToPath(new URL('../../fixtures/executor/shell-attempt.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')

/**
 * A shell that ignores SIGTERM (so do its children) and would touch a marker 8 s after it started, run by a
 * stand-in scheduler process (tests/fixtures/executor/shell-attempt.ts) through the local executor.
 */
async function startShell() {
  const dir = mkdtempSync(join(tmpdir(), 'forge-orphan-'))
  const command = `trap '' TERM; echo $$ > ${dir}/pid; (sleep 8; touch ${dir}/marker); echo never`
  const scheduler = spawn(process.execPath, ['--import', TSX, ATTEMPT, command], { stdio: ['ignore', 'pipe', 'inherit'] })
  spawned.push(scheduler)
  const events: ExecutorEvent[] = []
  createInterface({ input: scheduler.stdout! }).on('line', (l) => events.push(JSON.parse(l) as ExecutorEvent))
  const pidFile = join(dir, 'pid')
  const deadline = Date.now() + 30_000
  while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) {
    if (Date.now() > deadline) throw new Error('the shell never started')
    await sleep(50)
  }
  const started = events.find((e) => e.type === 'started') as { executorId: string } | undefined
  return {
    scheduler,
    events,
    pgid: Number(readFileSync(pidFile, 'utf8').trim()),
    taskProcess: Number(started!.executorId.split(':')[2]),
    marker: join(dir, 'marker'),
    shellStarted: statSync(pidFile).mtimeMs,
  }
}

/** Waits up to 3 s for the group to be gone, then past the marker's time, and checks neither is left. */
async function expectGroupGone(s: Awaited<ReturnType<typeof startShell>>) {
  const t0 = Date.now()
  while (living(-s.pgid).length > 0 && Date.now() - t0 < 3_000) await sleep(50)
  expect(living(-s.pgid)).toEqual([])
  await sleep(Math.max(0, s.shellStarted + 9_500 - Date.now()))
  expect(existsSync(s.marker)).toBe(false)
}

const spawned: ChildProcess[] = []
afterEach(() => {
  for (const c of spawned.splice(0)) c.kill('SIGKILL')
})

describe('a shell attempt that outlives what runs it', () => {
  it('is killed with its whole process group when its scheduler dies', async () => {
    const s = await startShell()
    s.scheduler.kill('SIGKILL')
    // The task process notices its parent is gone and exits within ~0.2 s: it takes the group with it.
    await expectGroupGone(s)
  })

  it('is killed with its whole process group when its task process dies', async () => {
    const s = await startShell()
    expect(s.taskProcess).toBeGreaterThan(0)
    process.kill(s.taskProcess, 'SIGKILL')
    // The scheduler sees its task process die without a result and kills the shell's group.
    await expectGroupGone(s)
    await sleep(200)
    expect(s.events.filter((e) => e.type === 'finished')).toMatchObject([{ ok: false, reason: 'task process killed by SIGKILL' }])
  })
})
