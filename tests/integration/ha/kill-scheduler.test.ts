import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../runtime/config.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

const FORGE = fileURLToPath(new URL('../../../runtime/cli/forge.mjs', import.meta.url))
const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

/** Each attempt writes <ti>_<try>.start before its work and .end after it, to check attempts never overlap. */
const prelude = (marks: string) => `
import { writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { defineDag } from '${RUNTIME}'
const work = (isolation: 'process' | 'thread') => async (ctx: { runId: string; taskId: string; tryNumber: number }) => {
  const name = '${marks}/' + ctx.runId + '__' + ctx.taskId + '__' + ctx.tryNumber
  writeFileSync(name + '.start', String(Date.now()))
  await sleep(isolation === 'process' ? 400 : 250)
  writeFileSync(name + '.end', String(Date.now()))
  return ctx.taskId
}
`
const fanoutSource = (marks: string) => `${prelude(marks)}
export default defineDag({ id: 'ha_fanout', defaults: { retries: 3, retryDelay: 50 } }, (dag) => {
  const root = dag.task('root', work('thread'), { isolation: 'thread' })
  const mids = Array.from({ length: 6 }, (_, i) =>
    dag.task('mid_' + i, work(i % 2 ? 'thread' : 'process'), { after: [root], isolation: i % 2 ? 'thread' : 'process' }))
  dag.task('join', work('thread'), { after: mids, isolation: 'thread' })
})
`
/** A pure chain of thread tasks: each edge hands its slot to the successor, so the kill lands on handed-off successors too. */
const chainSource = (marks: string) => `${prelude(marks)}
export default defineDag({ id: 'ha_chain', defaults: { retries: 3, retryDelay: 50, isolation: 'thread' } }, (dag) => {
  let prev: string | null = null
  for (let i = 0; i < 6; i++) {
    dag.task('link_' + i, work('thread'), { after: prev ? [prev] : [] })
    prev = 'link_' + i
  }
})
`

describe.skipIf(!ADMIN_URL)('several schedulers on one Postgres, one killed with SIGKILL', () => {
  let store: Store
  let drop: () => Promise<void>
  let url: string
  const children: ChildProcess[] = []
  const dir = mkdtempSync(join(tmpdir(), 'forge-ha-'))
  const marks = mkdtempSync(join(tmpdir(), 'forge-ha-marks-'))

  beforeAll(async () => {
    ;({ url, drop } = await createTestDatabase())
    store = await openPostgres(url)
    await migrate(store.db)
    writeFileSync(join(dir, 'ha.dag.ts'), fanoutSource(marks))
    writeFileSync(join(dir, 'ha-chain.dag.ts'), chainSource(marks))
  })
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL')
    await store?.close()
    await drop?.()
  })

  const startScheduler = () => {
    const child = spawn(process.execPath, [FORGE, 'scheduler'], {
      env: {
        ...process.env,
        FORGE_DATABASE_URL: url,
        FORGE_DAGS_FOLDER: dir,
        FORGE_HEARTBEAT_INTERVAL: '200ms',
        // Long enough that a loaded machine's stalls do not fence the survivors (the fence acts at 80 % of it); the
        // victim's attempts are found from its liveness lock, which this does not delay.
        FORGE_HEARTBEAT_TIMEOUT: '6s',
        FORGE_POLL_INTERVAL: '100ms',
        FORGE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    children.push(child)
    return child
  }

  it('finishes every run, with no attempt lost and none overlapping another of the same task', async () => {
    const config = loadConfig({ FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: dir })
    const { errors } = await refreshDags(store.db, config)
    expect(errors).toEqual([])
    const runs = []
    for (let i = 0; i < 4; i++) runs.push(await triggerRun(store.db, 'ha_fanout', {}))
    for (let i = 0; i < 2; i++) runs.push(await triggerRun(store.db, 'ha_chain', {}))
    // The victim starts alone and is killed only once it runs attempts, so the reaper is always exercised; the
    // survivors start just before the kill and compete for the same rows from then on.
    const victim = startScheduler()
    const victimTag = `:${victim.pid}:`
    const deadline = Date.now() + 60_000
    for (;;) {
      const busy = await store.db
        .selectFrom('task_instance')
        .select('id')
        .where('claimed_by', 'like', `%${victimTag}%`)
        .where('state', 'in', ['queued', 'running'])
        .execute()
      if (busy.length > 0) break
      if (Date.now() > deadline) throw new Error('victim scheduler never claimed a task')
      await new Promise((r) => setTimeout(r, 20))
    }
    startScheduler()
    startScheduler()
    // Let the victim get further into its work: kill it once it runs a chain link handed its predecessor's slot.
    for (;;) {
      const chained = await store.db
        .selectFrom('task_instance')
        .select('id')
        .where('claimed_by', 'like', `%${victimTag}%`)
        .where('task_id', 'in', ['link_1', 'link_2', 'link_3', 'link_4', 'link_5'])
        .where('state', 'in', ['queued', 'running'])
        .execute()
      if (chained.length > 0) break
      if (Date.now() > deadline) throw new Error('victim scheduler never took a chain edge')
      await new Promise((r) => setTimeout(r, 20))
    }
    victim.kill('SIGKILL')
    const killedAt = Date.now()

    for (;;) {
      const active = await store.db.selectFrom('dag_run').select('id').where('state', 'in', ['queued', 'running']).execute()
      if (active.length === 0) break
      if (Date.now() > deadline + 60_000) throw new Error('runs did not finish after the kill')
      await new Promise((r) => setTimeout(r, 100))
    }

    const finalRuns = await store.db.selectFrom('dag_run').select(['run_id', 'state']).execute()
    expect(finalRuns.map((r) => r.state)).toEqual(runs.map(() => 'success'))
    const tis = await store.db.selectFrom('task_instance').select(['id', 'run_id', 'task_id', 'state', 'try_number']).execute()
    expect(tis).toHaveLength(4 * 8 + 2 * 6)
    expect(tis.every((t) => t.state === 'success')).toBe(true)
    const attempts = await store.db.selectFrom('task_attempt').select(['task_instance_id', 'try_number', 'state', 'reason', 'scheduler_id']).execute()
    // The victim's attempts that died with it (its threads; runners it started live on, and are adopted) were seen
    // dead from its liveness lock, not after a heartbeat timeout, and cost no task retry.
    const reaped = attempts.filter((a) => a.scheduler_id.includes(victimTag) && a.state !== 'success')
    expect(reaped.length).toBeGreaterThan(0)
    for (const a of reaped) expect(a.reason).toMatch(/scheduler \S+ died before the attempt began|runner died with scheduler \S+/)
    for (const t of tis) expect(attempts.filter((a) => a.task_instance_id === t.id && a.state === 'success')).toHaveLength(1)

    // Attempts of one task instance never overlap: each starts after the previous one ended or was killed.
    const files = readdirSync(marks)
    for (const t of tis) {
      const spans = []
      for (let tr = 1; tr <= t.try_number; tr++) {
        const base = `${t.run_id}__${t.task_id}__${tr}`
        if (!files.includes(`${base}.start`)) continue
        const start = Number(readFileSync(join(marks, `${base}.start`), 'utf8'))
        const end = files.includes(`${base}.end`) ? Number(readFileSync(join(marks, `${base}.end`), 'utf8')) : killedAt
        spans.push({ start, end })
      }
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end)
    }
    // The victim's attempts that were ended as dead did stop with it: none of them finished its work after the kill.
    for (const a of reaped) {
      const ti = tis.find((t) => t.id === a.task_instance_id)!
      const endFile = `${ti.run_id}__${ti.task_id}__${a.try_number}.end`
      if (files.includes(endFile)) expect(Number(readFileSync(join(marks, endFile), 'utf8'))).toBeLessThanOrEqual(killedAt + 50)
    }
  }, 150_000)
})
