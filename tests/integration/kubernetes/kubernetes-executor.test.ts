/** The Kubernetes executor through the real client against the API double: one Job per attempt, classified ends. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AttemptSpec, ExecutorEvent } from '../../../runtime/executors/executor.ts'
import { KubernetesExecutor } from '../../../runtime/executors/kubernetes/kubernetes-executor.ts'
import { FakeKubeApi, type FakeKubeOptions } from '../../doubles/k8s/api-server.ts'
import { kubeAttempt } from '../../helpers/kube-attempt.ts'
import { kubeConfigFor } from '../../helpers/kube-client.ts'
import { KUBE_DEFAULTS as defaults, kubeExecutor } from '../../helpers/kube-executor.ts'
import { until } from '../../helpers/until.ts'

function spec(attemptId: number, executorConfig: Record<string, unknown> = {}, timeoutMs: number | null = null): AttemptSpec {
  return kubeAttempt(attemptId, { executorConfig, timeoutMs })
}

let api: FakeKubeApi
let executors: KubernetesExecutor[]
let events: ExecutorEvent[]
let logs: Map<number, string>

function executor(pendingTimeoutMs = 60_000): KubernetesExecutor {
  const ex = kubeExecutor(api.url, { events, logs }, { pendingTimeoutMs })
  executors.push(ex)
  return ex
}

/** Replaces the test's API double with one whose kubelet runs pods (its executors must be made after). */
async function apiWith(o: FakeKubeOptions): Promise<void> {
  await api.close()
  api = new FakeKubeApi(o)
  await api.start()
}

const finished = (key: string) => () => events.find((e): e is Extract<ExecutorEvent, { type: 'finished' }> => e.type === 'finished' && e.key === key)
const posts = () => api.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs'))

beforeEach(async () => {
  api = new FakeKubeApi()
  await api.start()
  executors = []
  events = []
  logs = new Map()
})
afterEach(async () => {
  for (const ex of executors) await ex.close()
  await api.close()
})

describe('KubernetesExecutor', () => {
  it('creates one Job per attempt; a launch repeated, here or by a restarted scheduler, adopts it', async () => {
    const ex = executor()
    const id = await ex.launch(spec(1))
    expect(id).toBe(`k8s:forge/${KubernetesExecutor.jobNameOf(spec(1))}`)
    expect(await ex.launch(spec(1))).toBe(id)
    expect(await executor().launch(spec(1))).toBe(id)
    expect(posts()).toHaveLength(2)
    expect(api.store.list('jobs', 'forge')).toHaveLength(1)
    expect(await ex.capacity()).toBe(3)
  })

  it('a worker that exits 0 ends as recorded by its runner, then the Job gets its TTL; nothing polls the Job', async () => {
    const ex = executor()
    await ex.launch(spec(2))
    const pod = await until(() => api.pod('forge', KubernetesExecutor.jobNameOf(spec(2))))
    api.kubelet.schedule(pod, 'gpu-1')
    api.kubelet.running(pod)
    api.kubelet.exit(pod, 0)
    expect((await until(finished('2:1'))).outcome).toEqual({ kind: 'recorded' })
    await until(() => api.store.list('jobs', 'forge')[0]?.spec?.ttlSecondsAfterFinished === 600)
    const jobPath = `/apis/batch/v1/namespaces/forge/jobs/${KubernetesExecutor.jobNameOf(spec(2))}`
    expect(api.requests.filter((r) => r.method === 'GET' && r.path === jobPath)).toHaveLength(0)
  })

  it('an unpullable image fails the attempt without retries', async () => {
    const ex = executor()
    await ex.launch(spec(3))
    const pod = await until(() => api.pod('forge', KubernetesExecutor.jobNameOf(spec(3))))
    api.kubelet.schedule(pod, 'gpu-1')
    api.kubelet.waiting(pod, 'ImagePullBackOff', 'Back-off pulling image "forge:test"')
    const outcome = (await until(finished('3:1'))).outcome
    expect(outcome).toMatchObject({ kind: 'result', ok: false, nonRetryable: true })
    expect((outcome as { reason: string }).reason).toMatch(/^ImagePullBackOff/)
  })

  it('a preempted pod is lost to the infrastructure, and its events land in the attempt log as warnings', async () => {
    const ex = executor()
    await ex.launch(spec(4))
    const pod = await until(() => api.pod('forge', KubernetesExecutor.jobNameOf(spec(4))))
    api.kubelet.schedule(pod, 'gpu-1')
    api.kubelet.running(pod)
    api.kubelet.disrupt(pod, 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod')
    const outcome = (await until(finished('4:1'))).outcome
    expect(outcome).toEqual({
      kind: 'lost',
      reason: 'disrupted: PreemptionByScheduler: default-scheduler: preempting to accommodate a higher priority pod',
    })
    const log = await until(() => logs.get(4)?.includes('Killing') && logs.get(4))
    expect(log).toMatch(/\[kubernetes\] warning: Preempted: Preempted by pod/)
    expect(log).toMatch(/\[kubernetes\] warning: Killing: Stopping container worker/)
  })

  it('an unschedulable pod fails after the pending timeout, and time suspended by Kueue does not count', async () => {
    const ex = executor(300)
    await ex.launch(spec(5, { queueName: 'gpu' }))
    // Kueue holds the Job suspended; nothing should happen however long that lasts.
    await new Promise((r) => setTimeout(r, 500))
    expect(finished('5:1')()).toBeUndefined()
    const job = api.store.list('jobs', 'forge')[0]!
    api.store.update('jobs', job, (j) => void (j.spec!.suspend = false))
    const pod = await until(() => api.pod('forge', job.metadata.name))
    api.kubelet.unschedulable(pod, '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.')
    const outcome = (await until(finished('5:1'), 5000)).outcome
    expect(outcome).toMatchObject({ kind: 'lost' })
    expect((outcome as { reason: string }).reason).toMatch(
      /^unschedulable for \d+s \(pending timeout\): 0\/3 nodes are available: 3 Insufficient nvidia.com\/gpu\.$/,
    )
    expect(logs.get(5)).toMatch(/warning: FailedScheduling: 0\/3 nodes/)
    await until(() => api.store.list('jobs', 'forge').length === 0)
  })

  it('cancel deletes the Job with an explicit propagation policy, so its pod goes too', async () => {
    const ex = executor()
    await ex.launch(spec(6))
    await until(() => api.pod('forge', KubernetesExecutor.jobNameOf(spec(6))))
    await ex.cancel('6:1', 'timed out after 1m')
    expect((await until(finished('6:1'))).outcome).toMatchObject({ kind: 'result', ok: false, reason: 'timed out after 1m' })
    const del = api.requests.find((r) => r.method === 'DELETE')!
    expect(del.query.get('propagationPolicy')).toBe('Background')
    await until(() => api.store.list('pods', 'forge').length === 0)
  })

  it('after a restart, adopts its running Jobs and decides one that finished while nobody watched', async () => {
    const first = executor()
    await first.launch(spec(7))
    await first.launch(spec(8))
    await first.close()
    const done = await until(() => api.pod('forge', KubernetesExecutor.jobNameOf(spec(7))))
    api.kubelet.schedule(done, 'gpu-1')
    api.kubelet.exit(done, 0)
    const second = executor()
    const adopted = await second.adopt([
      { key: '7:1', attemptId: 7, tiId: 7, tryNumber: 1, externalId: null, runnerAlive: false },
      { key: '8:1', attemptId: 8, tiId: 8, tryNumber: 1, externalId: null, runnerAlive: false },
      { key: '9:1', attemptId: 9, tiId: 9, tryNumber: 1, externalId: null, runnerAlive: false },
    ])
    expect(adopted.sort()).toEqual(['7:1', '8:1'])
    expect((await until(finished('7:1'))).outcome).toEqual({ kind: 'recorded' })
    expect(await second.status(['8:1', '9:1'])).toEqual(
      new Map([
        ['8:1', 'running'],
        ['9:1', 'unknown'],
      ]),
    )
  })

  it('a Job deleted by someone else while its attempt runs is an infrastructure loss', async () => {
    const ex = executor()
    await ex.launch(spec(10))
    const name = KubernetesExecutor.jobNameOf(spec(10))
    await until(() => api.pod('forge', name))
    api.controller.deleteJob(api.store.get('jobs', 'forge', name)!, 'Background')
    expect((await until(finished('10:1'))).outcome).toMatchObject({
      kind: 'lost',
      reason: expect.stringMatching(/was deleted before its attempt ended/),
    })
  })

  it('a missing Secret fails the attempt without retries, with the kubelet event in its log, and deletes the Job its pod would hold forever', async () => {
    await apiWith({ runPod: async () => 0, kubelet: { configRetryMs: 50 } })
    const ex = executor()
    await ex.launch(spec(11))
    const outcome = (await until(finished('11:1'))).outcome
    expect(outcome).toMatchObject({ kind: 'result', ok: false, nonRetryable: true })
    expect((outcome as { reason: string }).reason).toMatch(/^CreateContainerConfigError: container "worker" .*secret "forge-db" not found$/)
    await until(() => api.store.list('jobs', 'forge').length === 0 && api.store.list('pods', 'forge').length === 0)
    expect(api.requests.find((r) => r.method === 'DELETE')!.query.get('propagationPolicy')).toBe('Background')
    expect(await until(() => logs.get(11))).toMatch(/\[kubernetes\] warning: Failed: Error: secret "forge-db" not found/)
  })

  it("copies the end of a failed worker's output into the attempt's log, not its beginning", async () => {
    await apiWith({
      runPod: async (_pod, io) => {
        for (let i = 1; i <= 5000; i++) io.log(`worker line ${i}\n`)
        return 1
      },
    })
    await api.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'forge-db', namespace: 'forge' }, data: {} })
    const ex = executor()
    await ex.launch(spec(12))
    expect((await until(finished('12:1'))).outcome).toMatchObject({ kind: 'result', ok: false, reason: 'the worker exited with code 1 (Error)' })
    const log = await until(() => logs.get(12)?.includes("worker's last output") && logs.get(12))
    expect(log).toMatch(/worker line 5000\n$/)
    expect(log).not.toMatch(/worker line 1\n/)
  })

  it('close() waits until a finished attempt has given its Job a TTL, so no finished Job is left without one', async () => {
    const ex = executor()
    // Closed the moment the attempt is reported, as a scheduler stopping just then would.
    let closing: Promise<void> | null = null
    ex.onEvent((e) => void (e.type === 'finished' && queueMicrotask(() => (closing = ex.close()))))
    await ex.launch(spec(13))
    const pod = await until(() => api.pod('forge', KubernetesExecutor.jobNameOf(spec(13))))
    api.kubelet.schedule(pod, 'gpu-1')
    api.kubelet.running(pod)
    api.kubelet.exit(pod, 0)
    await until(() => closing)
    await closing
    const path = `/apis/batch/v1/namespaces/forge/jobs/${KubernetesExecutor.jobNameOf(spec(13))}`
    expect(api.requests.filter((r) => r.method === 'PATCH' && r.path === path)).toHaveLength(1)
  })

  it('an image the registry does not have: the pull errors and back-off land in the log, and the stuck Job is deleted', async () => {
    await apiWith({ runPod: async () => 0, kubelet: { images: ['forge:test'] } })
    const ex = executor()
    await ex.launch(spec(14, { image: 'forge:missing' }))
    const outcome = (await until(finished('14:1'))).outcome
    expect(outcome).toMatchObject({ kind: 'result', ok: false, nonRetryable: true })
    expect((outcome as { reason: string }).reason).toMatch(/^ErrImagePull: container "worker" cannot pull image "forge:missing"/)
    const log = await until(() => logs.get(14)?.includes('BackOff') && logs.get(14))
    expect(log).toMatch(/warning: Failed: Failed to pull image "forge:missing"/)
    expect(log).toMatch(/warning: BackOff: Back-off pulling image "forge:missing"/)
    await until(() => api.store.list('jobs', 'forge').length === 0)
  })

  it("a pod warning that trails the attempt's end (events have a watch of their own) still lands in its log", async () => {
    const ex = executor()
    await ex.launch(spec(15))
    const pod = await until(() => api.pod('forge', KubernetesExecutor.jobNameOf(spec(15))))
    api.kubelet.schedule(pod, 'gpu-1')
    api.kubelet.running(pod)
    api.kubelet.exit(pod, 137, 'OOMKilled')
    await until(finished('15:1'))
    await new Promise((r) => setTimeout(r, 300))
    api.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.metadata.name}.late`, namespace: 'forge' },
      involvedObject: { kind: 'Pod', namespace: 'forge', name: pod.metadata.name, uid: pod.metadata.uid, apiVersion: 'v1' },
      reason: 'OOMKilling',
      message: 'Memory cgroup out of memory: Killed process 4242 (node)',
      type: 'Warning',
    })
    expect(await until(() => logs.get(15)?.includes('OOMKilling') && logs.get(15))).toMatch(
      /\[kubernetes\] warning: OOMKilling: Memory cgroup out of memory: Killed process 4242 \(node\)/,
    )
  })

  it('a launch fails, naming the namespace and the answer, when its namespace cannot be listed; the next one lists afresh', async () => {
    api.failNext(/^GET \/apis\/batch\/v1\/namespaces\/forge\/jobs$/, 403)
    const ex = executor()
    await expect(ex.launch(spec(16))).rejects.toThrow(/^cannot list and watch Jobs, pods and events in namespace forge: HTTP 403/)
    expect(posts()).toHaveLength(0)
    expect(await ex.launch(spec(16))).toBe(`k8s:forge/${KubernetesExecutor.jobNameOf(spec(16))}`)
  })

  it("writes an attempt's notes one at a time, so two events in one burst read in the order they came", async () => {
    let writing = 0
    let overlapped = false
    const written: string[] = []
    const ex = new KubernetesExecutor({
      kc: kubeConfigFor(api.url),
      defaults,
      maxJobs: 4,
      pendingTimeoutMs: 60_000,
      // A slow store: a second note must not start before the first is written.
      appendLog: async (_id, text) => {
        overlapped ||= ++writing > 1
        await new Promise((r) => setTimeout(r, 20))
        written.push(text)
        writing--
      },
    })
    executors.push(ex)
    await ex.launch(spec(17))
    const pod = await until(() => api.pod('forge', KubernetesExecutor.jobNameOf(spec(17))))
    api.kubelet.schedule(pod, 'gpu-1')
    api.kubelet.running(pod)
    api.kubelet.disrupt(pod, 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod')
    await until(() => written.some((t) => t.includes('Killing')) && written.some((t) => t.includes('Preempted')))
    expect(overlapped).toBe(false)
  })

  /** A preempted attempt (key `${id}:1`) whose worker takes STOP_MS to stop after SIGTERM, and its retry's spec. */
  async function preemptedWithSlowStop(id: number) {
    await apiWith({
      runPod: (_pod, io) =>
        new Promise((resolve) => io.signal.addEventListener('abort', () => setTimeout(() => resolve({ exitCode: 143, signal: 15 }), STOP_MS))),
    })
    await api.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'forge-db', namespace: 'forge' }, data: {} })
    const jobsCreated = new Map<string, number>()
    api.store.onChange((e) => void (e.type === 'ADDED' && e.resource === 'jobs' && jobsCreated.set(e.object.metadata.name, Date.now())))
    const first = spec(id)
    const retry: AttemptSpec = { ...first, attemptId: id + 1, key: `${id}:2`, tryNumber: 2 }
    const ex = executor()
    await ex.launch(first)
    const pod = await until(() => {
      const p = api.pod('forge', KubernetesExecutor.jobNameOf(first))
      return p?.status?.phase === 'Running' && p
    })
    api.kubelet.disrupt(pod, 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod')
    const disruptedAt = Date.now()
    expect((await until(finished(`${id}:1`))).outcome).toMatchObject({ kind: 'lost' })
    return { ex, pod, retry, jobsCreated, disruptedAt }
  }
  // A worker that takes its time to stop after SIGTERM, as one flushing a shard does within its grace period.
  const STOP_MS = 1500

  it("a disrupted pod does not overlap its retry: the retry's Job is created only once the old pod's worker has stopped", async () => {
    const { ex, pod, retry, jobsCreated, disruptedAt } = await preemptedWithSlowStop(20)
    // The scheduler launches the infrastructure retry at once; the launch answers without waiting for the old pod.
    const launchStarted = Date.now()
    expect(await ex.launch(retry)).toBe(`k8s:forge/${KubernetesExecutor.jobNameOf(retry)}`)
    expect(Date.now() - launchStarted).toBeLessThan(STOP_MS / 2)
    const retryJob = KubernetesExecutor.jobNameOf(retry)
    await until(() => jobsCreated.get(retryJob), STOP_MS + 5000)
    const stoppedAt = api.kubelet.finishedAt.get(pod.metadata.name)
    expect(stoppedAt, 'the old pod stopped').toBeDefined()
    expect(stoppedAt! - disruptedAt).toBeGreaterThanOrEqual(STOP_MS - 100)
    expect(jobsCreated.get(retryJob)!).toBeGreaterThanOrEqual(stoppedAt!)
    expect(logs.get(21)).toMatch(/\[kubernetes\] waiting for pod \S+ of try 1 to stop before starting try 2/)
  })

  it('a retry cancelled while it waits for the old pod to stop never creates its Job', async () => {
    const { ex, pod, retry, jobsCreated } = await preemptedWithSlowStop(30)
    await ex.launch(retry)
    await ex.cancel(retry.key, 'timed out after 1s')
    expect((await until(finished(retry.key))).outcome).toMatchObject({ kind: 'result', ok: false, reason: 'timed out after 1s' })
    await until(() => api.kubelet.finishedAt.get(pod.metadata.name), STOP_MS + 5000)
    await new Promise((r) => setTimeout(r, 500))
    expect(jobsCreated.has(KubernetesExecutor.jobNameOf(retry))).toBe(false)
  })
})
