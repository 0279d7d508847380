import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalExecutor } from '../../../runtime/executors/local/local-executor.ts'
import { DagFileCache } from '../../../runtime/processor/dag-file-cache.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { Scheduler } from '../../../runtime/scheduler/scheduler.ts'
import { wholeLog } from '../../../runtime/store/attempt-log.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import { testConfig } from '../../helpers/run-dag.ts'
import { STORE_KINDS, openTestStore, type TestStore } from '../../helpers/stores.ts'

const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url))

/** Two function tasks per isolation: one returns a literal from its body, one a helper module's value. */
const dagSource = (body: string) => `import { defineDag } from ${JSON.stringify(RUNTIME)}
import { existsSync, writeFileSync } from 'node:fs'
import { helperValue } from './lib/helper.ts'

export default defineDag({ id: 'code_identity', defaults: { retries: 2, retryDelay: '100ms' } }, (dag) => {
  dag.task('body_thread', () => '${body}', { isolation: 'thread' })
  dag.task('helper_thread', () => helperValue(), { isolation: 'thread' })
  dag.task('body_process', () => '${body}')
  dag.task('helper_process', () => helperValue())
  const gate = dag.task('gate', async ({ params }) => {
    const { go, ready } = params as { go?: string; ready?: string }
    if (ready) writeFileSync(ready, '')
    for (let i = 0; go && !existsSync(go) && i < 600; i++) await new Promise((r) => setTimeout(r, 50))
    return 'open'
  })
  dag.task('after_gate_thread', () => helperValue(), { isolation: 'thread', after: [gate] })
  dag.task('after_gate_process', () => helperValue(), { after: [gate] })
})
`
const helperSource = (value: string) => `export const helperValue = () => '${value}'\n`

/**
 * The stale-code cases, through the real processor (a DagFileCache that would not re-import for an hour), the
 * scheduler and the local executor with one long-lived worker thread: an edited task body and an edited helper
 * module each make a new DAG version at the next refresh, the next run records a new code digest, and every
 * task, thread or process, runs the new code.
 */
describe.each(STORE_KINDS)('code identity on %s', (kind) => {
  let t: TestStore
  let dir: string
  let scheduler: Scheduler
  let running: Promise<void>
  const cache = new DagFileCache({ fullRefreshIntervalMs: 3_600_000 })
  // A loaded machine must not turn a slow heartbeat into a failed task: this test is about which code runs.
  const config = () => testConfig({ dagsFolder: dir, heartbeatTimeoutMs: 30_000 })

  beforeAll(async () => {
    t = await openTestStore(kind)
    dir = await mkdtemp(join(tmpdir(), 'forge-code-identity-'))
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
    await mkdir(join(dir, 'lib'))
    await writeFile(join(dir, 'code_identity.dag.ts'), dagSource('body-v1'))
    await writeFile(join(dir, 'lib', 'helper.ts'), helperSource('helper-v1'))
    // One thread, so a thread that cached the old module is the one asked to run the next attempt.
    scheduler = new Scheduler({
      config: config(),
      store: t.store,
      executor: new LocalExecutor({ parallelism: 4, threadWorkers: 1, store: t.store, config: config() }),
    })
    running = scheduler.run()
    // Opening PGlite and migrating it took over a minute on a loaded machine.
  }, 180_000)
  afterAll(async () => {
    scheduler?.stop()
    await running
    await t?.cleanup()
    if (dir) await rm(dir, { recursive: true, force: true })
  }, 60_000)

  const refresh = () => refreshDags(t.store.db, config(), cache)

  async function runToEnd(conf: Record<string, unknown> = {}, during?: (runPk: number) => Promise<void>) {
    const run = await triggerRun(t.store.db, 'code_identity', conf)
    await during?.(run.id)
    const deadline = Date.now() + 90_000
    for (;;) {
      const row = await t.store.db.selectFrom('dag_run').selectAll().where('id', '=', run.id).executeTakeFirstOrThrow()
      if (row.state === 'success' || row.state === 'failed') {
        const xcoms = await t.store.db.selectFrom('xcom').select(['task_id', 'value']).where('dag_run_id', '=', run.id).execute()
        const version = await t.store.db.selectFrom('dag_version').selectAll().where('id', '=', row.dag_version_id).executeTakeFirstOrThrow()
        const failed = await t.store.db
          .selectFrom('task_instance')
          .select(['task_id', 'state', 'reason'])
          .where('dag_run_id', '=', run.id)
          .where('state', '!=', 'success')
          .execute()
        return { run: row, version, failed, out: Object.fromEntries(xcoms.map((x) => [x.task_id, x.value])) }
      }
      if (Date.now() > deadline) throw new Error(`run ${run.run_id} did not finish`)
      await sleep(50)
    }
  }

  const versions = async () => (await t.store.db.selectFrom('dag_version').select('id').where('dag_id', '=', 'code_identity').execute()).length

  it('runs an edited task body and an edited helper at the next run, in a thread and in a process, under a new digest', async () => {
    expect((await refresh()).processed).toEqual(['code_identity.dag.ts'])
    const first = await runToEnd()
    expect(first.failed).toEqual([])
    expect(first.out).toMatchObject({ body_thread: 'body-v1', helper_thread: 'helper-v1', body_process: 'body-v1', helper_process: 'helper-v1' })
    expect(first.run.code_digest).toMatch(/^[0-9a-f]{64}$/)
    expect(first.run.code_digest).toBe(first.version.code_digest)

    // Same shape, new body: a new version at the next refresh.
    await writeFile(join(dir, 'code_identity.dag.ts'), dagSource('body-v2'))
    expect((await refresh()).processed).toEqual(['code_identity.dag.ts'])
    const second = await runToEnd()
    expect(second.out).toMatchObject({ body_thread: 'body-v2', helper_thread: 'helper-v1', body_process: 'body-v2', helper_process: 'helper-v1' })
    expect(second.run.dag_version_id).not.toBe(first.run.dag_version_id)
    expect(second.run.code_digest).not.toBe(first.run.code_digest)

    // The DAG file's bytes unchanged, its helper edited: re-imported at the next refresh, not the next full one.
    await writeFile(join(dir, 'lib', 'helper.ts'), helperSource('helper-v2'))
    expect((await refresh()).processed).toEqual(['code_identity.dag.ts'])
    const third = await runToEnd()
    expect(third.out).toMatchObject({ body_thread: 'body-v2', helper_thread: 'helper-v2', body_process: 'body-v2', helper_process: 'helper-v2' })
    expect(third.run.dag_version_id).not.toBe(second.run.dag_version_id)
    expect(third.run.code_digest).not.toBe(second.run.code_digest)
    expect(third.run.code_digest).toBe(third.version.code_digest)

    // Nothing changed: no new version, and the next run records the same digest.
    expect((await refresh()).processed).toEqual([])
    const fourth = await runToEnd()
    expect(fourth.run.dag_version_id).toBe(third.run.dag_version_id)
    expect(fourth.run.code_digest).toBe(third.run.code_digest)
    expect(await versions()).toBe(3)
  }, 240_000)

  it('runs an edit made during a run at the run’s next attempt, and says so in that attempt’s log', async () => {
    await refresh()
    const go = join(dir, 'go')
    const ready = join(dir, 'ready')
    const edited = await runToEnd({ go, ready }, async () => {
      // The gate's body runs once its code is loaded (and checked): the edit comes after that.
      const deadline = Date.now() + 60_000
      while (!existsSync(ready)) {
        if (Date.now() > deadline) throw new Error('the gate task never started')
        await sleep(50)
      }
      await writeFile(join(dir, 'lib', 'helper.ts'), helperSource('helper-v3'))
      await writeFile(go, '')
    })
    expect(edited.out).toMatchObject({ gate: 'open', after_gate_thread: 'helper-v3', after_gate_process: 'helper-v3' })
    const logs = await t.store.db
      .selectFrom('task_attempt as a')
      .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
      .select(['ti.task_id', wholeLog('a').as('log')])
      .where('ti.dag_run_id', '=', edited.run.id)
      .where('ti.task_id', 'in', ['after_gate_thread', 'after_gate_process', 'gate'])
      .execute()
    const short = edited.run.code_digest!.slice(0, 12)
    for (const taskId of ['after_gate_thread', 'after_gate_process']) {
      expect(logs.find((l) => l.task_id === taskId)!.log).toMatch(new RegExp(`code changed since the run started \\(${short} -> [0-9a-f]{12}\\)`))
    }
    expect(logs.find((l) => l.task_id === 'gate')!.log).not.toContain('code changed')
  }, 240_000)
})
