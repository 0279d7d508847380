/**
 * DAGs run for real through the Kubernetes executor: `forge scheduler` (FORGE_DEFAULT_EXECUTOR=kubernetes, the
 * cluster from KUBECONFIG) on Postgres creates a Job per attempt in the API double, whose kubelet runs each pod's
 * `forge task run --attempt ID` as a local process with the environment the Job's manifest gives it. No part of the
 * executor or the runner is replaced.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../runtime/config.ts'
import { jobName } from '../../../runtime/executors/kubernetes/job-identity.ts'
import { refreshDags } from '../../../runtime/scheduler/refresh-dags.ts'
import { openPostgres, type Store } from '../../../runtime/store/connect.ts'
import { migrate } from '../../../runtime/store/migrate.ts'
import { triggerRun } from '../../../runtime/store/trigger.ts'
import type { KObject } from '../../doubles/k8s/object-store.ts'
import { RUNTIME, spawnForge, waitFor } from '../../helpers/forge-cli.ts'
import { NAMESPACE, startLocalCluster, type LocalCluster } from '../../helpers/kube-local-cluster.ts'
import { ADMIN_URL, createTestDatabase } from '../../helpers/stores.ts'

const RELEASE = join(mkdtempSync(join(tmpdir(), 'forge-e2e-')), 'release-adopted')

const DAGS = {
  'pipeline.dag.ts': `
import { defineDag } from '${RUNTIME}'
export default defineDag({ id: 'k8s_pipeline', defaults: { retries: 1, retryDelay: 100 } }, (dag) => {
  const extract = dag.task('extract', () => {
    console.log('extract: 4 frames from Town03')
    return { frames: 4, town: 'Town03' }
  })
  const augment = dag.task('augment', {
    inputs: { frames: extract.out.frames },
    run: ({ inputs, tryNumber }) => {
      if (tryNumber === 1) throw new Error('augment fails its first try on purpose')
      return inputs.frames * 2
    },
  })
  dag.task('publish', { inputs: { n: augment.out, town: extract.out.town }, run: ({ inputs }) => inputs.town + ': ' + inputs.n + ' frames' })
})
`,
  'preempted.dag.ts': `
import { setTimeout as sleep } from 'node:timers/promises'
import { defineDag } from '${RUNTIME}'
export default defineDag({ id: 'k8s_preempted', defaults: { retries: 0, infraRetries: 2, retryDelay: 100 } }, (dag) => {
  dag.task('simulate', async ({ tryNumber, signal }) => {
    console.log('simulate: try ' + tryNumber + ' started')
    if (tryNumber === 1) await sleep(120_000, undefined, { signal })
    return 'shard done on try ' + tryNumber
  })
})
`,
  'adopted.dag.ts': `
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { defineDag } from '${RUNTIME}'
// Each runs until the test releases it: once a new scheduler has adopted it.
const slow = (name: string) => async () => {
  console.log(name + ': started')
  while (!existsSync('${RELEASE}')) await sleep(100)
  return name + '-done'
}
export default defineDag({ id: 'k8s_adopted', defaults: { retries: 0, infraRetries: 0 } }, (dag) => {
  const a = dag.task('left', slow('left'))
  const b = dag.task('right', slow('right'))
  dag.task('join', { inputs: { a: a.out, b: b.out }, run: ({ inputs }) => inputs.a + '+' + inputs.b })
})
`,
}

describe.skipIf(!ADMIN_URL)('DAGs through the Kubernetes executor, pods run as local processes', () => {
  let store: Store
  let drop: () => Promise<void>
  let url: string
  let cluster: LocalCluster
  const schedulers: ChildProcess[] = []
  /** Every Job and pod as created, in order. */
  const created: KObject[] = []
  const podsCreated: KObject[] = []
  /** When each Job was created (ms), by name. */
  const jobCreatedAt = new Map<string, number>()

  beforeAll(async () => {
    ;({ url, drop } = await createTestDatabase())
    store = await openPostgres(url)
    await migrate(store.db)
    cluster = await startLocalCluster()
    for (const [file, source] of Object.entries(DAGS)) writeFileSync(join(cluster.dagsDir, file), source)
    const { errors } = await refreshDags(store.db, loadConfig({ FORGE_DATABASE_URL: url, FORGE_DAGS_FOLDER: cluster.dagsDir }))
    expect(errors).toEqual([])
    // The runners' database URL reaches them only through this Secret, named by each Job's envFrom.
    await cluster.core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: 'forge-db' }, stringData: { FORGE_DATABASE_URL: url } },
    })
    cluster.api.store.onChange((e) => {
      if (e.type === 'ADDED' && e.resource === 'jobs') {
        created.push(e.object)
        jobCreatedAt.set(e.object.metadata.name, Date.now())
      }
      if (e.type === 'ADDED' && e.resource === 'pods') podsCreated.push(e.object)
    })
  })
  afterAll(async () => {
    for (const s of schedulers) s.kill('SIGKILL')
    await cluster?.close()
    await store?.close()
    await drop?.()
  })

  function scheduler(...args: string[]) {
    const s = spawnForge(cluster.schedulerEnv(url, { FORGE_K8S_TTL_AFTER_FINISHED: '1s' }), 'scheduler', ...args)
    schedulers.push(s.child)
    return s
  }

  async function attemptsOf(runPk: number) {
    return store.db
      .selectFrom('task_attempt as a')
      .innerJoin('task_instance as ti', 'ti.id', 'a.task_instance_id')
      .select(['a.id', 'ti.task_id', 'a.try_number', 'a.state', 'a.failure_class', 'a.reason', 'a.executor_id', 'a.scheduler_id'])
      .where('ti.dag_run_id', '=', runPk)
      .orderBy('ti.task_id')
      .orderBy('a.try_number')
      .execute()
  }

  async function runState(runPk: number) {
    return (await store.db.selectFrom('dag_run').select('state').where('id', '=', runPk).executeTakeFirstOrThrow()).state
  }

  async function logOf(attemptId: number): Promise<string> {
    const rows = await store.db.selectFrom('task_log_chunk').select('text').where('attempt_id', '=', attemptId).orderBy('seq').execute()
    return rows.map((r) => r.text).join('')
  }

  const jobsOf = (dagId: string) => created.filter((j) => j.metadata.labels?.['adas-forge.io/dag'] === dagId)

  it('runs a three-task DAG to success: XCom passed between pods, a task error retried, one Job per attempt, each TTL-deleted', async () => {
    const run = await triggerRun(store.db, 'k8s_pipeline', {})
    const s = scheduler('--until-idle')
    expect(await s.exited, s.stderr()).toBe(0)
    expect(await runState(run.id)).toBe('success')

    const attempts = await attemptsOf(run.id)
    expect(attempts.map((a) => [a.task_id, a.try_number, a.state, a.failure_class])).toEqual([
      ['augment', 1, 'up_for_retry', 'task'],
      ['augment', 2, 'success', null],
      ['extract', 1, 'success', null],
      ['publish', 1, 'success', null],
    ])
    expect(attempts[0]!.reason).toMatch(/augment fails its first try on purpose/)
    const xcom = await store.db.selectFrom('xcom').select(['task_id', 'value']).where('dag_run_id', '=', run.id).orderBy('task_id').execute()
    expect(xcom).toEqual([
      { task_id: 'augment', value: 8 },
      { task_id: 'extract', value: { frames: 4, town: 'Town03' } },
      { task_id: 'publish', value: 'Town03: 8 frames' },
    ])

    // One Job per attempt, named from the attempt and labelled with it.
    const jobs = jobsOf('k8s_pipeline')
    expect(jobs).toHaveLength(4)
    for (const a of attempts) {
      const name = jobName({ attemptId: a.id, dagId: 'k8s_pipeline', runId: run.run_id, taskId: a.task_id, mapIndex: -1, tryNumber: a.try_number })
      const job = jobs.find((j) => j.metadata.name === name)
      expect(job, `the Job of ${a.task_id} try ${a.try_number}`).toBeDefined()
      expect(a.executor_id).toBe(`k8s:${NAMESPACE}/${name}`)
      expect(job!.metadata.labels).toMatchObject({
        'adas-forge.io/managed': 'true',
        'adas-forge.io/attempt-id': String(a.id),
        'adas-forge.io/task': a.task_id,
        'adas-forge.io/map-index': '-1',
        'adas-forge.io/try': String(a.try_number),
      })
      expect(job!.metadata.annotations?.['adas-forge.io/run-id']).toBe(run.run_id)
      expect(job!.spec!.template.spec.containers[0].command).toEqual([
        'forge',
        'task',
        'run',
        '--attempt',
        String(a.id),
        '--executor-id',
        a.executor_id,
      ])
      expect(job!.spec!.template.spec.containers[0].envFrom).toEqual([{ secretRef: { name: 'forge-db' } }])
    }
    // The runner's output is the pod's log; the worker wrote it to stdout and the runner kept it in the attempt's log too.
    const extract = attempts.find((a) => a.task_id === 'extract')!
    expect(await logOf(extract.id)).toMatch(/extract: 4 frames from Town03/)

    // Cleanup as docs/kubernetes.md §2 says: a TTL once each attempt was recorded, then the TTL controller deletes.
    const patched = new Set(cluster.api.requests.filter((r) => r.method === 'PATCH').map((r) => r.path.split('/').pop()))
    for (const j of jobs) expect(patched.has(j.metadata.name), `TTL set on ${j.metadata.name}`).toBe(true)
    expect(cluster.api.requests.filter((r) => r.method === 'DELETE')).toEqual([])
    await waitFor('the TTL controller to delete every Job and pod', () => {
      const names = new Set(jobs.map((j) => j.metadata.name))
      return (
        !cluster.api.store.list('jobs', NAMESPACE).some((j) => names.has(j.metadata.name)) &&
        !cluster.api.store.list('pods', NAMESPACE).some((p) => names.has(String(p.metadata.labels?.['job-name'])))
      )
    })
  }, 180_000)

  it('a pod preempted mid-task is an infrastructure failure: retried from infraRetries, with retries: 0; its pod events are warnings in its log', async () => {
    // No node has room at first: the pod waits unschedulable, as a GPU pod does behind others.
    cluster.api.kubelet.holdScheduling('0/3 nodes are available: 3 Insufficient nvidia.com/gpu.')
    const run = await triggerRun(store.db, 'k8s_preempted', {})
    const s = scheduler('--until-idle')
    await waitFor('the pod to wait for a node', () =>
      cluster.api.store
        .list('pods', NAMESPACE)
        .some((p) => p.metadata.labels?.['adas-forge.io/dag'] === 'k8s_preempted' && p.status?.conditions?.[0]?.reason === 'Unschedulable'),
    )
    cluster.api.kubelet.releaseScheduling()
    let pod: KObject | undefined
    await waitFor('the first try to run in its pod', () => {
      pod = cluster.api.store.list('pods', NAMESPACE).find((p) => p.metadata.labels?.['adas-forge.io/dag'] === 'k8s_preempted')
      return !!pod && cluster.api.kubelet.logs.text(pod.metadata.name).includes('simulate: try 1 started')
    })
    cluster.api.kubelet.disrupt(pod!, 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod')
    expect(await s.exited, s.stderr()).toBe(0)
    expect(await runState(run.id)).toBe('success')

    const attempts = await attemptsOf(run.id)
    expect(attempts.map((a) => [a.try_number, a.state, a.failure_class])).toEqual([
      [1, 'up_for_retry', 'infrastructure'],
      [2, 'success', null],
    ])
    // Either the executor's reading of the pod or the runner's own SIGTERM handler recorded it first; both say why.
    expect(attempts[0]!.reason).toMatch(/disrupted: PreemptionByScheduler|SIGTERM/)
    const ti = await store.db.selectFrom('task_instance').selectAll().where('dag_run_id', '=', run.id).executeTakeFirstOrThrow()
    expect([ti.try_number, ti.infra_failures]).toEqual([2, 1])
    const xcom = await store.db.selectFrom('xcom').select('value').where('dag_run_id', '=', run.id).executeTakeFirstOrThrow()
    expect(xcom.value).toBe('shard done on try 2')
    expect(jobsOf('k8s_preempted').map((j) => j.metadata.labels?.['adas-forge.io/try'])).toEqual(['1', '2'])
    // The retry's Job came only once the preempted pod's worker had stopped: the two never overlapped.
    const stoppedAt = cluster.api.kubelet.finishedAt.get(pod!.metadata.name)
    expect(stoppedAt, 'the preempted pod stopped').toBeDefined()
    expect(jobCreatedAt.get(jobsOf('k8s_preempted')[1]!.metadata.name)!).toBeGreaterThanOrEqual(stoppedAt!)
    // The pod's events, copied into the first attempt's log as warnings.
    const log = await logOf(attempts[0]!.id)
    expect(log).toMatch(/\[kubernetes\] warning: FailedScheduling: 0\/3 nodes are available: 3 Insufficient nvidia.com\/gpu\./)
    expect(log).toMatch(/\[kubernetes\] warning: Preempted: Preempted by pod/)
    expect(log).toMatch(/\[kubernetes\] warning: Killing: Stopping container worker/)
  }, 180_000)

  it('a scheduler killed while its Jobs run: a new one adopts them, and the run succeeds without a second attempt anywhere', async () => {
    const run = await triggerRun(store.db, 'k8s_adopted', {})
    const victim = scheduler()
    const started = () =>
      ['left', 'right'].every((task) =>
        cluster.api.store
          .list('pods', NAMESPACE)
          .some(
            (p) => p.metadata.labels?.['adas-forge.io/task'] === task && cluster.api.kubelet.logs.text(p.metadata.name).includes(`${task}: started`),
          ),
      )
    await waitFor('both slow tasks to run in their pods', started)
    victim.child.kill('SIGKILL')
    await victim.exited
    const runners = [...cluster.pods.running().values()]
    expect(runners).toHaveLength(2)
    const successor = scheduler()
    const adoptedBySuccessor = async () => {
      const rows = await store.db
        .selectFrom('task_instance')
        .select('claimed_by')
        .where('dag_run_id', '=', run.id)
        .where('task_id', 'in', ['left', 'right'])
        .execute()
      return rows.length === 2 && rows.every((r) => r.claimed_by?.includes(`:${successor.child.pid}:`))
    }
    await waitFor('the successor to adopt both running attempts', adoptedBySuccessor)
    writeFileSync(RELEASE, '')
    await waitFor('the run to end', async () => (await runState(run.id)) !== 'running' && (await runState(run.id)) !== 'queued')
    expect(await runState(run.id), successor.stderr()).toBe('success')
    successor.child.kill('SIGTERM')
    expect(await successor.exited, successor.stderr()).toBe(0)

    const attempts = await attemptsOf(run.id)
    expect(
      attempts.map((a) => [a.task_id, a.try_number, a.state, a.reason]),
      JSON.stringify(attempts),
    ).toEqual([
      ['join', 1, 'success', null],
      ['left', 1, 'success', null],
      ['right', 1, 'success', null],
    ])
    const victimTag = `:${victim.child.pid}:`
    expect(attempts.filter((a) => a.scheduler_id.includes(victimTag)).map((a) => a.task_id)).toEqual(['left', 'right'])
    // One Job per attempt: the successor adopted the running ones instead of creating others.
    const jobs = jobsOf('k8s_adopted')
    expect(jobs.map((j) => j.metadata.labels?.['adas-forge.io/task']).sort()).toEqual(['join', 'left', 'right'])
    expect(podsCreated.filter((p) => p.metadata.labels?.['adas-forge.io/dag'] === 'k8s_adopted')).toHaveLength(3)
    const xcom = await store.db
      .selectFrom('xcom')
      .select(['task_id', 'value'])
      .where('dag_run_id', '=', run.id)
      .where('task_id', '=', 'join')
      .executeTakeFirstOrThrow()
    expect(xcom.value).toBe('left-done+right-done')
  }, 180_000)
})
