/**
 * The executor needs nothing the scheduler's Role in infra/k8s lacks: the double authorizes every request by that
 * Role's rules and answers 403 Forbidden, as the API server does, for anything else. Each way an attempt can go
 * (success and TTL, a failed worker's log tail, a cancel, a Job stuck on a missing Secret, adoption after a
 * restart) runs against it.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ApiException, CoreV1Api } from '@kubernetes/client-node'
import { afterEach, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import type { ExecutorEvent } from '../../../runtime/executors/executor.ts'
import { KubernetesExecutor } from '../../../runtime/executors/kubernetes/kubernetes-executor.ts'
import { FakeKubeApi } from '../../doubles/k8s/api-server.ts'
import type { RbacRule } from '../../doubles/k8s/rbac.ts'
import { kubeAttempt } from '../../helpers/kube-attempt.ts'
import { kubeConfigFor } from '../../helpers/kube-client.ts'
import { kubeExecutor } from '../../helpers/kube-executor.ts'
import { until } from '../../helpers/until.ts'

const RBAC = fileURLToPath(new URL('../../../infra/k8s/base/rbac.yaml', import.meta.url))
const USER = 'system:serviceaccount:forge:forge-scheduler'

function schedulerRole(): RbacRule[] {
  const docs = parseAllDocuments(readFileSync(RBAC, 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; rules?: RbacRule[] })
  return docs.find((d) => d.kind === 'Role' && d.metadata.name === 'forge-scheduler')!.rules!
}

let api: FakeKubeApi
let executors: KubernetesExecutor[] = []
let events: ExecutorEvent[] = []
let logs = new Map<number, string>()

async function start(rules: RbacRule[], exitCodes: Map<string, number>): Promise<void> {
  api = new FakeKubeApi({
    rbac: { user: USER, rules },
    kubelet: { configRetryMs: 50 },
    runPod: async (pod, io) => {
      const task = String(pod.metadata.labels?.['adas-forge.io/task'])
      io.log(`${task}: working\n`)
      if (task === 'slow') await new Promise((r) => io.signal.addEventListener('abort', r))
      return exitCodes.get(task) ?? 0
    },
  })
  await api.start()
  // Test setup, as an administrator would: the Secret each Job's envFrom names.
  api.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'forge-db', namespace: 'forge' }, data: {} })
}

function executor(): KubernetesExecutor {
  const ex = kubeExecutor(api.url, { events, logs }, { maxJobs: 8 })
  executors.push(ex)
  return ex
}

const finished = (key: string) => () => events.find((e): e is Extract<ExecutorEvent, { type: 'finished' }> => e.type === 'finished' && e.key === key)

afterEach(async () => {
  for (const ex of executors) await ex.close()
  executors = []
  events = []
  logs = new Map()
  await api?.close()
})

describe("the executor against the scheduler's Role from infra/k8s", () => {
  it('needs nothing the Role does not grant, whichever way its attempts go', async () => {
    await start(schedulerRole(), new Map([['fails', 3]]))
    const ex = executor()
    await ex.launch(kubeAttempt(1, { taskId: 'succeeds' }))
    await ex.launch(kubeAttempt(2, { taskId: 'fails' }))
    await ex.launch(kubeAttempt(3, { taskId: 'slow' }))
    await ex.launch(kubeAttempt(4, { taskId: 'no_secret', executorConfig: { envFromSecrets: ['missing'] } }))
    expect((await until(finished('1:1'))).outcome).toEqual({ kind: 'recorded' })
    expect((await until(finished('2:1'))).outcome).toMatchObject({ kind: 'result', reason: 'the worker exited with code 3 (Error)' })
    expect((await until(finished('4:1'))).outcome).toMatchObject({ kind: 'result', nonRetryable: true })
    await until(() => logs.get(2)?.includes('fails: working'))
    await ex.cancel('3:1', 'timed out after 1m')
    await until(
      () =>
        api.requests.filter((r) => r.method === 'PATCH' && /succeeds|fails/.test(r.path)).length === 2 &&
        api.requests.some((r) => r.method === 'DELETE' && r.path.includes('no-secret')),
    )
    // A restarted scheduler lists again and adopts.
    await ex.close()
    await executor().launch(kubeAttempt(5, { taskId: 'slow' }))
    const adopted = await executor().adopt([{ key: '5:1', attemptId: 5, tiId: 5, tryNumber: 1, externalId: null, runnerAlive: false }])
    expect(adopted).toEqual(['5:1'])
    expect(api.denied).toEqual([])
    // Every verb the Role grants on Jobs was used, so the test would see one taken away.
    const verbs = new Set(api.requests.filter((r) => r.path.includes('/jobs')).map((r) => `${r.method}${r.query.get('watch') ? ' watch' : ''}`))
    expect([...verbs].sort()).toEqual(['DELETE', 'GET', 'GET watch', 'PATCH', 'POST'])
  })

  it("answers what the Role lacks with the API server's 403 Status, naming the user, verb, resource and namespace", async () => {
    const withoutLogs = schedulerRole().filter((r) => !r.resources.includes('pods/log'))
    await start(withoutLogs, new Map([['fails', 3]]))
    const ex = executor()
    await ex.launch(kubeAttempt(6, { taskId: 'fails' }))
    // The attempt is still recorded; only the tail of its output is missing.
    expect((await until(finished('6:1'))).outcome).toMatchObject({ kind: 'result', reason: 'the worker exited with code 3 (Error)' })
    const pod = api.pod('forge', KubernetesExecutor.jobNameOf(kubeAttempt(6, { taskId: 'fails' })))!
    const message = `pods "${pod.metadata.name}" is forbidden: User "${USER}" cannot get resource "pods/log" in API group "" in the namespace "forge"`
    await until(() => api.denied.length > 0)
    expect(api.denied.map((d) => d.message)).toEqual([message])
    const err = await kubeConfigFor(api.url)
      .makeApiClient(CoreV1Api)
      .readNamespacedPodLog({ name: pod.metadata.name, namespace: 'forge', container: 'worker' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiException)
    expect((err as ApiException<string>).code).toBe(403)
    expect(JSON.parse((err as ApiException<string>).body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: 'Forbidden',
      details: { name: pod.metadata.name, kind: 'pods' },
      code: 403,
    })
  })

  it('a Role without list on pods fails the launch with the 403, naming the namespace', async () => {
    const noPodList = schedulerRole().map((r) => (r.resources.includes('pods') ? { ...r, verbs: r.verbs.filter((v) => v !== 'list') } : r))
    await start(noPodList, new Map())
    await expect(executor().launch(kubeAttempt(7))).rejects.toThrow(
      /^cannot list and watch Jobs, pods and events in namespace forge: HTTP 403: .*pods is forbidden: User \\"system:serviceaccount:forge:forge-scheduler\\" cannot list resource \\"pods\\" in API group \\"\\" in the namespace \\"forge\\"/,
    )
  })
})
