/**
 * The double's kubelet, Job controller and discovery through the real client: container environments from
 * Secrets and ConfigMaps (CreateContainerConfigError when one is missing), a worker run as a local process, pod
 * logs (204, 400, tail, head, follow), podFailurePolicy, and the discovery documents kind-addressed clients read.
 */
import { PassThrough } from 'node:stream'
import { tmpdir } from 'node:os'
import {
  ApisApi,
  ApiException,
  BatchV1Api,
  CoreApi,
  CoreV1Api,
  KubernetesObjectApi,
  Log,
  VersionApi,
  type KubeConfig,
  type V1Container,
  type V1Job,
  type V1PodFailurePolicy,
} from '@kubernetes/client-node'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeKubeApi, type FakeKubeOptions } from '../../doubles/k8s/api-server.ts'
import type { PodIo } from '../../doubles/k8s/kubelet.ts'
import { localProcessPods } from '../../doubles/k8s/local-process-pods.ts'
import type { KObject } from '../../doubles/k8s/object-store.ts'
import { kubeConfigFor } from '../../helpers/kube-client.ts'
import { until } from '../../helpers/until.ts'

function job(name: string, container: Partial<V1Container>, spec: Partial<NonNullable<V1Job['spec']>> = {}): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      backoffLimit: 0,
      ...spec,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'worker', image: 'forge:1', ...container }] } },
    },
  }
}

let api: FakeKubeApi
let kc: KubeConfig
let batch: BatchV1Api
let core: CoreV1Api

async function start(o: FakeKubeOptions): Promise<void> {
  api = new FakeKubeApi(o)
  kc = kubeConfigFor(await api.start())
  batch = kc.makeApiClient(BatchV1Api)
  core = kc.makeApiClient(CoreV1Api)
}
afterEach(async () => api?.close())

const podOf = (name: string) => () => api.pod('forge', name)
const terminated = (name: string) => () => {
  const p = api.pod('forge', name)
  return p?.status?.containerStatuses?.[0]?.state?.terminated ? p : undefined
}
const jobCondition = (name: string, type: string) => () => {
  const j = api.store.get('jobs', 'forge', name)
  return j?.status?.conditions?.find((c: { type: string }) => c.type === type) as { reason: string; message: string } | undefined
}

describe('the double kubelet builds the container environment as the kubelet does', () => {
  it("reads envFrom and valueFrom from Secrets, ConfigMaps and pod fields, expands $(NAME) of its own variables, and puts the image's underneath", async () => {
    const seen: PodIo[] = []
    await start({ runPod: async (_pod, io) => (seen.push(io), 0), kubelet: { imageEnv: { PATH: '/usr/bin', STAGE: 'image' } } })
    await core.createNamespacedSecret({
      namespace: 'forge',
      body: { metadata: { name: 'forge-db' }, stringData: { FORGE_DATABASE_URL: 'postgres://db/x' } },
    })
    await core.createNamespacedConfigMap({ namespace: 'forge', body: { metadata: { name: 'settings' }, data: { 'bad-key!': 'x', REGION: 'eu' } } })
    await batch.createNamespacedJob({
      namespace: 'forge',
      body: job('env', {
        command: ['forge', 'task', 'run', '--attempt', '$(ATTEMPT)'],
        args: ['$(MISSING)', '$$(ATTEMPT)'],
        envFrom: [{ secretRef: { name: 'forge-db' } }, { configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
        env: [
          { name: 'ATTEMPT', value: '42' },
          { name: 'WHERE', value: '$(CFG_REGION)-$(STAGE)' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'URL_AGAIN', valueFrom: { secretKeyRef: { name: 'forge-db', key: 'FORGE_DATABASE_URL' } } },
          { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
        ],
      }),
    })
    const io = await until(() => seen[0])
    expect(io.argv).toEqual(['forge', 'task', 'run', '--attempt', '42', '$(MISSING)', '$(ATTEMPT)'])
    const pod = api.pod('forge', 'env')!
    expect(io.env).toEqual({
      PATH: '/usr/bin',
      STAGE: 'image',
      HOSTNAME: pod.metadata.name,
      FORGE_DATABASE_URL: 'postgres://db/x',
      CFG_REGION: 'eu',
      ATTEMPT: '42',
      // The image's variables are the runtime's, under the kubelet's: $(NAME) does not see them.
      WHERE: 'eu-$(STAGE)',
      POD: pod.metadata.name,
      URL_AGAIN: 'postgres://db/x',
    })
  })

  it('leaves the pod Pending in CreateContainerConfigError while a Secret is missing, and starts it once it exists', async () => {
    const started: string[] = []
    await start({ runPod: async (pod) => (started.push(pod.metadata.name), 0), kubelet: { configRetryMs: 50 } })
    await batch.createNamespacedJob({
      namespace: 'forge',
      body: job('nosecret', { command: ['true'], envFrom: [{ secretRef: { name: 'forge-db' } }] }),
    })
    const pod = await until(() => api.pod('forge', 'nosecret')?.status?.containerStatuses?.[0]?.state?.waiting && api.pod('forge', 'nosecret'))
    expect(pod.status!.phase).toBe('Pending')
    expect(pod.status!.containerStatuses[0].state.waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'secret "forge-db" not found' })
    const events = await core.listNamespacedEvent({ namespace: 'forge', fieldSelector: `involvedObject.name=${pod.metadata.name},reason=Failed` })
    expect(events.items.map((e) => [e.type, e.message])).toEqual([['Warning', 'Error: secret "forge-db" not found']])
    expect(started).toEqual([])
    await core.createNamespacedSecret({
      namespace: 'forge',
      body: { metadata: { name: 'forge-db' }, stringData: { FORGE_DATABASE_URL: 'postgres://db/x' } },
    })
    await until(() => started.length === 1)
    expect(await until(jobCondition('nosecret', 'Complete'))).toBeTruthy()
  })

  it('names the missing key of a secretKeyRef', async () => {
    await start({ runPod: async () => 0 })
    await core.createNamespacedSecret({ namespace: 'forge', body: { metadata: { name: 's' }, stringData: { A: '1' } } })
    await batch.createNamespacedJob({
      namespace: 'forge',
      body: job('nokey', { command: ['true'], env: [{ name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'B' } } }] }),
    })
    const pod = await until(() => api.pod('forge', 'nokey')?.status?.containerStatuses?.[0]?.state?.waiting && api.pod('forge', 'nokey'))
    expect(pod.status!.containerStatuses[0].state.waiting.message).toBe("couldn't find key B in Secret forge/s")
  })
})

describe('a worker run as a local process', () => {
  it('streams its output as the pod log (follow ends when it exits) and ends the pod with its exit code', async () => {
    await start({ runPod: localProcessPods({ workingDir: tmpdir() }).run, kubelet: { imageEnv: { PATH: process.env.PATH! } } })
    await batch.createNamespacedJob({
      namespace: 'forge',
      body: job('proc', {
        command: ['sh', '-c', 'echo "one $WORD"; echo two >&2; sleep 0.5; echo three; exit 3'],
        env: [{ name: 'WORD', value: 'alpha' }],
      }),
    })
    const pod = await until(() => api.pod('forge', 'proc')?.status?.phase === 'Running' && api.pod('forge', 'proc'))
    const sink = new PassThrough()
    let followed = ''
    sink.on('data', (b: Buffer) => void (followed += b.toString()))
    const ended = new Promise((r) => sink.on('end', r))
    await new Log(kc).log('forge', pod.metadata.name, 'worker', sink, { follow: true })
    await ended
    expect(followed).toBe('one alpha\ntwo\nthree\n')
    const done = await until(terminated('proc'))
    expect(done.status!.phase).toBe('Failed')
    expect(done.status!.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' })
    expect(await until(jobCondition('proc', 'Failed'))).toMatchObject({ reason: 'BackoffLimitExceeded' })
  })

  it('gets SIGTERM when its pod is disrupted, and the pod ends with what the process exits with', async () => {
    await start({ runPod: localProcessPods({ workingDir: tmpdir() }).run, kubelet: { imageEnv: { PATH: process.env.PATH! } } })
    await batch.createNamespacedJob({
      namespace: 'forge',
      body: job('term', { command: ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; sleep 30 & wait'] }),
    })
    const pod = await until(
      () => api.pod('forge', 'term') && api.kubelet.logs.text(api.pod('forge', 'term')!.metadata.name).includes('ready') && api.pod('forge', 'term'),
    )
    const name = pod.metadata.name
    api.kubelet.disrupt(pod, 'EvictionByEvictionAPI', 'Eviction API: evicting')
    await until(() => !api.pod('forge', 'term'))
    expect(api.kubelet.logs.text(name)).toBe('ready\ngot TERM\n')
    const last = api.store.history.filter((e) => e.resource === 'pods' && e.object.metadata.name === name).at(-1)!.object
    expect(last.status!.containerStatuses[0].state.terminated.exitCode).toBe(7)
    expect(last.status!.conditions.find((c: { type: string }) => c.type === 'DisruptionTarget').reason).toBe('EvictionByEvictionAPI')
  })
})

describe('pod logs', () => {
  it('answers 204 before the pod is scheduled, 400 while the container waits, and reads tailLines from the end, limitBytes from the start', async () => {
    await start({})
    await batch.createNamespacedJob({ namespace: 'forge', body: job('logs', { command: ['x'] }) })
    const pod = await until(podOf('logs'))
    const name = pod.metadata.name
    const raw = (q = '') => fetch(`${api.url}/api/v1/namespaces/forge/pods/${name}/log${q}`)
    expect((await raw()).status).toBe(204)
    // As docs/kubernetes.md §8 warns, the generated client cannot read that answer at all.
    const unscheduled = await core.readNamespacedPodLog({ name, namespace: 'forge', container: 'worker' }).catch((e: Error) => e)
    expect(String(unscheduled)).toMatch(/No Content-Type defined/)
    api.kubelet.schedule(pod, 'n1')
    const waiting = (await core
      .readNamespacedPodLog({ name, namespace: 'forge', container: 'worker' })
      .catch((e: unknown) => e)) as ApiException<string>
    expect(waiting.code).toBe(400)
    expect(JSON.parse(waiting.body).message).toBe(`container "worker" in pod "${name}" is waiting to start: ContainerCreating`)
    expect((await raw('?container=sidecar')).status).toBe(400)
    api.kubelet.running(pod)
    for (let i = 1; i <= 5; i++) api.kubelet.logs.append(name, 'worker', `line ${i}\n`)
    expect(await core.readNamespacedPodLog({ name, namespace: 'forge', container: 'worker', tailLines: 2 })).toBe('line 4\nline 5\n')
    expect(await core.readNamespacedPodLog({ name, namespace: 'forge', container: 'worker', limitBytes: 10 })).toBe('line 1\nlin')
    const stamped = await core.readNamespacedPodLog({ name, namespace: 'forge', container: 'worker', timestamps: true, tailLines: 1 })
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 5\n$/)
  })
})

describe('podFailurePolicy', () => {
  const policyJob = (name: string, rules: unknown[], backoffLimit = 0) =>
    job(name, { command: ['x'] }, { backoffLimit, podFailurePolicy: { rules } as V1PodFailurePolicy })

  it('is refused with restartPolicy OnFailure', async () => {
    await start({})
    const body = policyJob('bad', [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }])
    body.spec!.template.spec!.restartPolicy = 'OnFailure'
    const err = (await batch.createNamespacedJob({ namespace: 'forge', body }).catch((e: unknown) => e)) as ApiException<string>
    expect(err.code).toBe(422)
    expect(JSON.parse(err.body).details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
        field: 'spec.template.spec.restartPolicy',
      },
    ])
  })

  it('FailJob on an exit code fails the Job with reason PodFailurePolicy even with backoff left', async () => {
    await start({})
    await batch.createNamespacedJob({
      namespace: 'forge',
      body: policyJob('failjob', [{ action: 'FailJob', onExitCodes: { containerName: 'worker', operator: 'In', values: [42] } }], 3),
    })
    const pod = await until(podOf('failjob'))
    api.kubelet.schedule(pod, 'n1')
    api.kubelet.exit(pod, 42)
    const failed = await until(jobCondition('failjob', 'Failed'))
    expect(failed).toMatchObject({
      reason: 'PodFailurePolicy',
      message: `Container worker for pod forge/${pod.metadata.name} failed with exit code 42 matching FailJob rule at index 0`,
    })
    expect(api.store.get('jobs', 'forge', 'failjob')!.status!.conditions.map((c: { type: string }) => c.type)).toEqual(['FailureTarget', 'Failed'])
  })

  it('Ignore on DisruptionTarget replaces the pod without counting it; a counted failure past backoffLimit fails the Job', async () => {
    await start({ replacementBackoffMs: 20 })
    await batch.createNamespacedJob({
      namespace: 'forge',
      body: policyJob(
        'ignore',
        [
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
          { action: 'Count', onExitCodes: { operator: 'NotIn', values: [99] } },
        ],
        1,
      ),
    })
    const first = await until(podOf('ignore'))
    api.kubelet.schedule(first, 'n1')
    api.kubelet.disrupt(first, 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod')
    const second = await until(() =>
      api.controller.podsOf(api.store.get('jobs', 'forge', 'ignore')!).find((p: KObject) => p.metadata.name !== first.metadata.name),
    )
    expect(api.store.get('jobs', 'forge', 'ignore')!.status!.failed ?? 0).toBe(0)
    api.kubelet.schedule(second, 'n1')
    api.kubelet.exit(second, 1)
    const third = await until(() =>
      api.controller
        .podsOf(api.store.get('jobs', 'forge', 'ignore')!)
        .find((p: KObject) => ![first.metadata.name, second.metadata.name].includes(p.metadata.name)),
    )
    expect(api.store.get('jobs', 'forge', 'ignore')!.status!.failed).toBe(1)
    api.kubelet.schedule(third, 'n1')
    api.kubelet.exit(third, 1)
    expect(await until(jobCondition('ignore', 'Failed'))).toMatchObject({ reason: 'BackoffLimitExceeded' })
    expect(api.store.get('jobs', 'forge', 'ignore')!.status!.failed).toBe(2)
  })
})

describe('discovery', () => {
  it('serves /api, /apis, /apis/batch/v1 and /version, so kind-addressed clients find Jobs', async () => {
    await start({})
    expect((await kc.makeApiClient(CoreApi).getAPIVersions()).versions).toEqual(['v1'])
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions()
    expect(groups.groups.map((g) => g.preferredVersion?.groupVersion)).toEqual(['batch/v1'])
    expect((await batch.getAPIResources()).resources.map((r) => r.name)).toContain('jobs')
    expect((await kc.makeApiClient(VersionApi).getCode()).gitVersion).toMatch(/^v1\.\d+\.\d+$/)
    await batch.createNamespacedJob({ namespace: 'forge', body: job('found', { command: ['x'] }) })
    const objects = KubernetesObjectApi.makeApiClient(kc)
    const read = await objects.read({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'found', namespace: 'forge' } })
    expect(read.metadata?.uid).toBe(api.store.get('jobs', 'forge', 'found')!.metadata.uid)
  })
})
