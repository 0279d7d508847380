import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as dags from '../../fixtures/dags-runtime/stubborn.dag.ts'
import { living } from '../../helpers/processes.ts'
import { runDagOnce } from '../../helpers/run-dag.ts'
import { openTestStore, type TestStore } from '../../helpers/stores.ts'

const FILE = 'stubborn.dag.ts'

/** Runs `def` once and says how long the run took and what the task left in its folder. */
async function timedRun(t: TestStore, def: Parameters<typeof runDagOnce>[1]) {
  const dir = mkdtempSync(join(tmpdir(), 'forge-stubborn-'))
  const t0 = Date.now()
  const r = await runDagOnce(t.store, def, FILE, { dir })
  const elapsed = Date.now() - t0
  const pidFile = join(dir, 'pid')
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : null
  // When the task wrote its pid: its own sleeps count from there, however slowly it started.
  const shellStarted = pid ? statSync(pidFile).mtimeMs : Date.now()
  return { ...r, dir, elapsed, pid, marker: join(dir, 'marker'), shellStarted }
}

// What these tests check happens in the child processes, whatever the store: PGlite is enough.
describe('process and shell tasks that ignore cancellation are still stopped', () => {
  let t: TestStore
  beforeAll(async () => {
    t = await openTestStore('pglite')
  })
  afterAll(() => t?.cleanup())

  it('kills a process task that ignores its timeout after the grace period', async () => {
    const r = await timedRun(t, dags.processIgnoresTimeout)
    expect(r.ti('stubborn')).toMatchObject({ state: 'failed', reason: 'timed out after 5.00s' })
    expect(r.pid).toBeGreaterThan(0)
    // 5 s timeout + 5 s grace; the task itself would run for 25 s.
    expect(r.elapsed).toBeLessThan(20_000)
    expect(living(r.pid!)).toEqual([])
    expect(existsSync(r.marker)).toBe(false)
  })

  it("kills a timed-out shell task's whole process group, not only its shell", async () => {
    const r = await timedRun(t, dags.shellTimeout)
    expect(r.ti('stubborn')).toMatchObject({ state: 'failed', reason: 'timed out after 6.00s' })
    expect(r.pid).toBeGreaterThan(0)
    // The shell leads its own process group: nothing of it may be left, subshell and sleep included.
    expect(living(-r.pid!)).toEqual([])
    // SIGTERM reached the whole group at the timeout (6 s after the shell started); the executor's SIGKILL of the task
    // process would come 5 s later. Counted from the shell's start: the attempt's own clock holds the runner's start-up.
    expect(r.ti('stubborn').end_date!.getTime() - r.shellStarted).toBeLessThan(9_500)
    // The subshell would touch the marker 8 s after the shell started.
    await sleep(Math.max(0, r.shellStarted + 9_500 - Date.now()))
    expect(existsSync(r.marker)).toBe(false)
  })

  it('kills a shell task that ignores SIGTERM with SIGKILL', async () => {
    const r = await timedRun(t, dags.shellIgnoresTerm)
    expect(r.ti('stubborn')).toMatchObject({ state: 'failed', reason: 'timed out after 6.00s' })
    expect(r.pid).toBeGreaterThan(0)
    expect(living(-r.pid!)).toEqual([])
    // The shell's own SIGKILL came 2 s after SIGTERM (6 s after the shell started), before the executor's 5 s one:
    // counted from the shell's start, since the attempt's own clock also holds the runner's start-up.
    expect(r.ti('stubborn').end_date!.getTime() - r.shellStarted).toBeLessThan(10_000)
    // SIGKILL comes 2 s after SIGTERM; the subshell would touch the marker 10 s after the shell started.
    await sleep(Math.max(0, r.shellStarted + 11_500 - Date.now()))
    expect(existsSync(r.marker)).toBe(false)
  })

  it("kills a shell task's process group when its runner is killed with SIGKILL", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-stubborn-'))
    const pidFile = join(dir, 'pid')
    const done = runDagOnce(t.store, dags.shellRunnerKilled, FILE, { dir })
    const deadline = Date.now() + 30_000
    while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) {
      if (Date.now() > deadline) throw new Error('the shell task never started')
      await sleep(20)
    }
    const pgid = Number(readFileSync(pidFile, 'utf8').trim())
    // The shell's parent is its runner (`forge task run`), which no exit handler outlives a SIGKILL of.
    const stat = readFileSync(`/proc/${pgid}/stat`, 'utf8')
    const runner = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    process.kill(runner, 'SIGKILL')
    try {
      const r = await done
      expect(r.ti('stubborn')).toMatchObject({ state: 'failed' })
      expect(r.ti('stubborn').reason).toMatch(/task runner killed by SIGKILL/)
      // Killed when the executor heard of the runner's death; a zombie may take a moment to be reaped.
      for (let i = 0; i < 50 && living(-pgid).length > 0; i++) await sleep(20)
      expect(living(-pgid)).toEqual([])
    } finally {
      for (const pid of living(-pgid)) process.kill(pid, 'SIGKILL')
    }
  })
})
