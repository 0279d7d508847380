import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serializeDag } from '../../../runtime/dag/serialize.ts'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { Scheduler, type SchedulerEvent } from '../../../runtime/scheduler/scheduler.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { syncDags } from '../../../runtime/store/dag.repo.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'
import { selfFence } from '../../fixtures/dags-runtime/self-fence.dag.ts'

/**
 * A TCP proxy in front of Postgres that the test can cut: every proxied connection is closed and new ones are
 * closed as soon as they are accepted, so the scheduler behind it gets errors at once (no waiting on TCP timeouts).
 */
class CuttableProxy {
  private server: Server
  private sockets = new Set<Socket>()
  private cut = false
  /** Connections accepted while not cut (to see the scheduler come back). */
  accepted = 0

  constructor(private target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.cut) {
        client.destroy()
        return
      }
      this.accepted++
      const upstream = connect(this.target.port, this.target.host)
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(a)
        a.on('error', () => {})
        a.on('close', () => {
          this.sockets.delete(a)
          b.destroy()
        })
        a.pipe(b)
      }
    })
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return (this.server.address() as { port: number }).port
  }

  /** Drops every connection and refuses new ones until restore(). */
  cutAll(): void {
    this.cut = true
    for (const s of this.sockets) s.destroy()
  }

  restore(): void {
    this.cut = false
  }

  async close(): Promise<void> {
    this.cutAll()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * Self-fencing (Scheduler.fenceIfSilent): scheduler A reaches Postgres through a proxy the test cuts while A runs a
 * long attempt; scheduler B, connected directly, reaps it after the heartbeat timeout and runs the retry. A must
 * cancel the attempt itself before that timeout, so the two tries never run at the same time.
 */
describe.skipIf(!ADMIN_URL)('a scheduler that loses its database while it runs an attempt', () => {
  let store: Store // direct: the test's view, and the second scheduler's
  let proxied: Store // through the proxy: the scheduler that loses its database
  let proxy: CuttableProxy
  let drop: () => Promise<void>
  const marks = mkdtempSync(join(tmpdir(), 'forge-fence-'))
  const schedulers: Scheduler[] = []

  beforeAll(async () => {
    const db = await createTestDatabase()
    drop = db.drop
    store = await openPostgres(db.url)
    await migrate(store.db)
    const target = new URL(db.url)
    proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const proxiedUrl = new URL(db.url)
    proxiedUrl.hostname = '127.0.0.1'
    const proxyPort = await proxy.listen()
    proxiedUrl.port = String(proxyPort)
    proxied = await openPostgres(proxiedUrl.toString())
  })
  afterAll(async () => {
    for (const s of schedulers) s.stop()
    proxy?.restore()
    await proxied?.close()
    await proxy?.close()
    await store?.close()
    await drop?.()
    rmSync(marks, { recursive: true, force: true })
  })

  it('cancels its own attempt before the heartbeat timeout, so the retry elsewhere never overlaps it', async () => {
    const config = testConfig() // heartbeat every 200 ms, timed out after 1500 ms: fencing at 1200 ms
    expect(config.heartbeatTimeoutMs).toBe(1500)
    await syncDags(store.db, [serializeDag(selfFence, 'self-fence.dag.ts')], [])
    const run = await triggerRun(store.db, 'self_fence', { marks })

    // Scheduler A, behind the proxy, claims and starts the long first try.
    const eventsA: Array<SchedulerEvent & { at: number }> = []
    const a = new Scheduler({
      config,
      store: proxied,
      executor: new LocalExecutor({ parallelism: 2, threadWorkers: 1, store: proxied, config }),
      onlyRunPk: run.id,
      onEvent: (e) => eventsA.push({ ...e, at: Date.now() }),
    })
    schedulers.push(a)
    const doneA = a.run()
    const ti = () => store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run.id).executeTakeFirstOrThrow()
    await until('the first try runs on A', async () => (await ti()).state === 'running' && existsSync(join(marks, '1.start')), 15_000)
    expect((await ti()).claimed_by).toBe(a.id)

    // Scheduler B, on a direct connection, is there to reap A's attempt and run the retry.
    const eventsB: SchedulerEvent[] = []
    const b = new Scheduler({
      config,
      store,
      executor: new LocalExecutor({ parallelism: 2, threadWorkers: 1, store, config }),
      onlyRunPk: run.id,
      onEvent: (e) => eventsB.push(e),
    })
    schedulers.push(b)
    const doneB = b.run()
    // Let A heartbeat a few times, then take its database away.
    await new Promise((r) => setTimeout(r, 500))
    proxy.cutAll()
    const cutAt = Date.now()
    // A's last heartbeat as the database recorded it: the reaper's clock. Read once A's connections are surely gone
    // and well before B can reap and claim the retry (which would set the column again).
    await new Promise((r) => setTimeout(r, 200))
    const lastHeartbeat = (await ti()).last_heartbeat_at!.getTime()
    expect(cutAt - lastHeartbeat).toBeLessThan(config.heartbeatTimeoutMs * 0.8) // A was heartbeating until the cut

    // (1) A cancels the attempt itself, saying why, before the timeout after which B may reap it.
    await until('A fences its attempt', () => eventsA.some((e) => e.type === 'attempt:finished'), 5_000).catch((err: Error) => {
      throw new Error(`${err.message}; A's events: ${eventsA.map((e) => e.type).join(', ')}`)
    })
    const fenced = eventsA.find((e) => e.type === 'attempt:finished')!
    if (fenced.type !== 'attempt:finished') throw new Error('unreachable')
    expect(fenced.spec.tryNumber).toBe(1)
    expect(fenced.ok).toBe(false)
    // Either its liveness lock's connection dropped with the others (then it fences at once), or its heartbeats
    // failed for 80 % of the timeout.
    expect(fenced.reason).toMatch(/^(lost its liveness lock|lost the database for \d+s); stopped so that another scheduler can retry it/)
    expect(fenced.at - lastHeartbeat).toBeLessThan(config.heartbeatTimeoutMs)
    expect(fenced.at - cutAt).toBeLessThan(config.heartbeatTimeoutMs)
    // The task itself stopped (its signal aborted), long before its 8 s of work.
    await until('the first try stops', () => existsSync(join(marks, '1.end')), 2_000)
    const end1 = Number(readFileSync(join(marks, '1.end'), 'utf8'))
    expect(end1 - lastHeartbeat).toBeLessThan(config.heartbeatTimeoutMs)

    // B reaps the silent attempt; only then does A get its database back.
    const attempt = (tryNumber: number) =>
      store.db
        .selectFrom('task_attempt')
        .selectAll()
        .where('task_instance_id', '=', fenced.spec.tiId)
        .where('try_number', '=', tryNumber)
        .executeTakeFirst()
    // Ended either as infrastructure (A's lock went with its connections: up for retry) or by the heartbeat timeout.
    await until('B reaps the first try', async () => ['failed', 'up_for_retry'].includes((await attempt(1))?.state ?? ''), 5_000)
    proxy.restore()
    const restoredAt = Date.now()
    // B may reap before the heartbeat timeout: A's liveness lock went with its connections.
    const acceptedBefore = proxy.accepted

    // (2) The retry runs (on whichever scheduler claims it) and the run succeeds.
    await until(
      'the run succeeds',
      async () => (await store.db.selectFrom('dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()).state === 'success',
      10_000,
    )
    // A reconnects (its pool or its LISTEN connection) and finishes cleanly; its late result for try 1 is dropped.
    await until('A reconnects', () => proxy.accepted > acceptedBefore, 5_000)
    a.stop()
    b.stop()
    await Promise.all([doneA, doneB])
    expect(eventsB.filter((e) => e.type === 'scheduler:error')).toEqual([])
    expect(eventsA.filter((e) => e.type === 'scheduler:error' && e.at > restoredAt + 2_000)).toEqual([])

    const final = await ti()
    expect(final).toMatchObject({ state: 'success', try_number: 2 })
    const attempts = await store.db.selectFrom('task_attempt').selectAll().where('task_instance_id', '=', final.id).orderBy('try_number').execute()
    expect(attempts.map((x) => x.try_number)).toEqual([1, 2])
    expect(attempts[1]!.state).toBe('success')
    // The first try's row is the reaper's (A's lock gone: an infrastructure failure; or its heartbeat timed out): A
    // recorded its cancellation only after the reaper had ended the attempt, so it was dropped whole. And A had
    // fenced before the reaper got there.
    expect(attempts[0]!.scheduler_id).toBe(a.id)
    expect(attempts[0]).toMatchObject(
      attempts[0]!.state === 'failed'
        ? { reason: expect.stringMatching(/^heartbeat lost/) }
        : { state: 'up_for_retry', failure_class: 'infrastructure', reason: expect.stringMatching(/died/) },
    )
    expect(fenced.at).toBeLessThan(attempts[0]!.end_date!.getTime())

    // No overlap: the second try started after the first one had stopped, by the task's own clock and by the rows.
    const start2 = Number(readFileSync(join(marks, '2.start'), 'utf8'))
    expect(start2).toBeGreaterThanOrEqual(end1)
    expect(attempts[1]!.start_date.getTime()).toBeGreaterThanOrEqual(end1)
    expect(existsSync(join(marks, '3.start'))).toBe(false)
  }, 30_000)
})
