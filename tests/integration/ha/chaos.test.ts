import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../runtime/config.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../../helpers/private-postgres.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

const FORGE = fileURLToPath(new URL('../../../runtime/cli/forge.mjs', import.meta.url))
const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))
const INFRA_RETRIES = 3

/** A fan-out as bench_fanout's, with no task retries: only the infrastructure budget may absorb a crash. */
const fanoutSource = `import { setTimeout as sleep } from 'node:timers/promises'
import { defineDag } from '${RUNTIME}'
const work = async () => { await sleep(300); return 1 }
export default defineDag({ id: 'chaos_fanout', maxActiveTasks: 1000, defaults: { retries: 0, retryDelay: '100ms', infraRetries: ${INFRA_RETRIES}, isolation: 'thread' } }, (dag) => {
  const root = dag.task('root', work)
  const leaves = Array.from({ length: 40 }, (_, i) => dag.task('leaf_' + i, work, { after: [root], isolation: i % 20 === 0 ? 'process' : 'thread' }))
  dag.task('join', work, { after: leaves })
})
`

/** How long one run may take, kills and restarts included; a clean run takes a few seconds. */
const RUN_DEADLINE_MS = 60_000

/*
 * Both runs use a PostgreSQL cluster of this file's own (tests/helpers/private-postgres.ts): the restart must not
 * take the shared server from the test files running beside this one, and three schedulers being killed and
 * restarted must not spend the shared server's connections. Postgres-only, as every test that skips on ADMIN_URL.
 */
const noCluster = privatePostgresUnavailable()

describe.skipIf(!ADMIN_URL)('chaos: schedulers killed while they run a fan-out, and a restart of Postgres', () => {
  if (noCluster) {
    it.skip(`needs a private PostgreSQL cluster, which cannot start here: ${noCluster}`, () => {})
    return
  }
  let cluster: PrivatePostgres
  let store: Store
  let drop: () => Promise<void>
  let url: string
  const children = new Set<ChildProcess>()
  const dir = mkdtempSync(join(tmpdir(), 'forge-chaos-'))
  const logs = mkdtempSync(join(tmpdir(), 'forge-chaos-logs-'))
  let started = 0

  beforeAll(async () => {
    cluster = await startPrivatePostgres()
    ;({ url, drop } = await createTestDatabase(cluster.adminUrl))
    store = await openPostgres(url)
    await migrate(store.db)
    writeFileSync(join(dir, 'chaos.dag.ts'), fanoutSource)
    const { errors } = await refreshDags(store.db, loadConfig({ FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: dir }))
    expect(errors).toEqual([])
  }, 120_000)
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL')
    await store?.close()
    try {
      await drop?.()
    } finally {
      await cluster?.destroy()
    }
  })

  /** A `forge scheduler` with its stderr in a file of its own, which a failure prints. */
  const startScheduler = () => {
    const fd = openSync(join(logs, `scheduler-${++started}.log`), 'w')
    const child = spawn(process.execPath, [FORGE, 'scheduler'], {
      env: {
        ...process.env,
        FORGE_DATABASE_URL: url,
        FORGE_DAGS_FOLDER: dir,
        FORGE_PARALLELISM: '8',
        // One worker thread: a restart every 3 s on two shared cores pays for every thread's boot.
        FORGE_THREAD_WORKERS: '1',
        FORGE_HEARTBEAT_INTERVAL: '500ms',
        FORGE_HEARTBEAT_TIMEOUT: '5s',
        FORGE_POLL_INTERVAL: '200ms',
        FORGE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', fd],
    })
    closeSync(fd)
    children.add(child)
    child.once('exit', () => children.delete(child))
    return child
  }

  const runState = async (runPk: number) =>
    (await store.db.selectFrom('dag_run').select('state').where('id', '=', runPk).executeTakeFirstOrThrow()).state

  /** What a stalled run looks like: its unfinished instances, their attempts and the schedulers' last words. */
  async function describeStall(runPk: number): Promise<string> {
    const tis = await store.db
      .selectFrom('task_instance')
      .select(['id', 'task_id', 'state', 'try_number', 'max_tries', 'infra_failures', 'claimed_by', 'last_heartbeat_at', 'reason'])
      .where('dag_run_id', '=', runPk)
      .where((w) => w.or([w('state', 'is', null), w('state', '!=', 'success')]))
      .execute()
    const attempts = tis.length
      ? await store.db
          .selectFrom('task_attempt')
          .select(['task_instance_id', 'try_number', 'state', 'scheduler_id', 'runner_id', 'executor_id', 'reason', 'start_date', 'end_date'])
          .where(
            'task_instance_id',
            'in',
            tis.map((t) => t.id),
          )
          .orderBy('task_instance_id')
          .orderBy('try_number')
          .execute()
      : []
    const tails = readdirSync(logs)
      .map((f) => [f, readFileSync(join(logs, f), 'utf8').slice(-1500)] as const)
      .filter(([, text]) => text.trim())
      .map(([f, text]) => `--- ${f}\n${text}`)
    return [`now: ${new Date().toISOString()}`, JSON.stringify({ tis, attempts }, null, 1), ...tails].join('\n')
  }

  /** Waits for the run to end, calling `between` every `everyMs`; a run that misses the deadline fails with what it was stuck on. */
  async function awaitEnd(runPk: number, deadline: number, everyMs: number, between: () => void | Promise<void> = () => {}): Promise<void> {
    for (;;) {
      try {
        if (['success', 'failed'].includes(await runState(runPk))) return
      } catch {
        // the test's own connections come back with the server
      }
      if (Date.now() > deadline) throw new Error(`the run did not finish in time:\n${await describeStall(runPk).catch((e) => String(e))}`)
      await new Promise((r) => setTimeout(r, everyMs))
      await between()
    }
  }

  /** Every instance succeeded, no two attempts of one instance overlap, and none took more attempts than its budget allows. */
  async function expectCleanRun(runPk: number) {
    const state = await runState(runPk)
    if (state !== 'success') expect.fail(`the run ended ${state}:\n${await describeStall(runPk)}`)
    const tis = await store.db.selectFrom('task_instance').select(['id', 'task_id', 'state']).where('dag_run_id', '=', runPk).execute()
    expect(tis.filter((t) => t.state !== 'success')).toEqual([])
    const attempts = await store.db
      .selectFrom('task_attempt as a')
      .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
      .select(['ti.task_id', 'a.try_number', 'a.start_date', 'a.end_date', 'a.state', 'a.reason'])
      .where('ti.dag_run_id', '=', runPk)
      .orderBy('ti.task_id')
      .orderBy('a.try_number')
      .execute()
    const byTask = new Map<string, typeof attempts>()
    for (const a of attempts) byTask.set(a.task_id, [...(byTask.get(a.task_id) ?? []), a])
    for (const [task, list] of byTask) {
      expect(list.length, `${task} took ${list.length} attempts: ${JSON.stringify(list)}`).toBeLessThanOrEqual(1 + INFRA_RETRIES)
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1]!
        expect(prev.end_date, `${task} try ${prev.try_number} never ended`).not.toBeNull()
        expect(prev.end_date!.getTime(), `${task} try ${prev.try_number} overlaps try ${list[i]!.try_number}`).toBeLessThanOrEqual(
          list[i]!.start_date.getTime(),
        )
      }
    }
  }

  const stopAll = async (schedulers: ChildProcess[]) => {
    await Promise.all(
      schedulers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.exitCode !== null || s.signalCode !== null) return resolve()
            s.once('exit', () => resolve())
            s.kill('SIGTERM')
            setTimeout(() => s.kill('SIGKILL'), 10_000).unref()
          }),
      ),
    )
  }

  it('ends in success with three schedulers, one SIGKILLed every 3 s and restarted', async () => {
    const run = await triggerRun(store.db, 'chaos_fanout', {})
    const schedulers = [startScheduler(), startScheduler(), startScheduler()]
    const deadline = Date.now() + RUN_DEADLINE_MS
    // The kills start once a scheduler has claimed work (starting one takes a second or more), then come every 3 s.
    while (
      (await store.db.selectFrom('task_instance').select('id').where('dag_run_id', '=', run.id).where('try_number', '>', 0).execute()).length === 0
    ) {
      if (Date.now() > deadline) throw new Error(`no scheduler ever claimed a task:\n${await describeStall(run.id)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    let next = 0
    await awaitEnd(run.id, deadline, 3000, () => {
      schedulers[next]!.kill('SIGKILL')
      schedulers[next] = startScheduler()
      next = (next + 1) % schedulers.length
    })
    await stopAll(schedulers)
    await expectCleanRun(run.id)
  }, 90_000)

  it('survives a restart of Postgres in mid-run', async () => {
    const run = await triggerRun(store.db, 'chaos_fanout', {})
    const schedulers = [startScheduler(), startScheduler()]
    const deadline = Date.now() + RUN_DEADLINE_MS
    while (
      (await store.db.selectFrom('task_instance').select('id').where('dag_run_id', '=', run.id).where('state', '=', 'success').execute()).length < 3
    ) {
      if (Date.now() > deadline) throw new Error(`the run never got going:\n${await describeStall(run.id)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    await cluster.restart()
    await awaitEnd(run.id, deadline, 200)
    await stopAll(schedulers)
    await expectCleanRun(run.id)
  }, 90_000)
})
