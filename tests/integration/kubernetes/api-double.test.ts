/** The double answers the real client as docs/kubernetes.md says the API server does. */
import { ApiException, BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeKubeApi } from '../../doubles/k8s/api-server.ts'
import { kubeConfigFor } from '../../helpers/kube-client.ts'

const job = (name: string): V1Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, labels: { 'adas-forge.io/managed': 'true' } },
  spec: {
    backoffLimit: 0,
    template: {
      metadata: { labels: { 'adas-forge.io/managed': 'true' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'worker', image: 'forge:1' }] },
    },
  },
})

let api: FakeKubeApi
let batch: BatchV1Api
let core: CoreV1Api

beforeEach(async () => {
  api = new FakeKubeApi({ token: 'test-token' })
  const kc = kubeConfigFor(await api.start())
  batch = kc.makeApiClient(BatchV1Api)
  core = kc.makeApiClient(CoreV1Api)
})
afterEach(async () => api.close())

describe('the Kubernetes API double', () => {
  it('creates a Job with the server-side defaults and labels, and a second create is 409 AlreadyExists', async () => {
    const created = await batch.createNamespacedJob({ namespace: 'forge', body: job('a') })
    expect(created.metadata!.uid).toBeTruthy()
    expect(created.spec!.selector!.matchLabels!['batch.kubernetes.io/controller-uid']).toBe(created.metadata!.uid)
    expect(created.spec!.template.metadata!.labels!['job-name']).toBe('a')
    expect(created.spec!.completionMode).toBe('NonIndexed')
    const err = await batch.createNamespacedJob({ namespace: 'forge', body: job('a') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiException)
    expect((err as ApiException<string>).code).toBe(409)
    expect(JSON.parse((err as ApiException<string>).body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'jobs.batch "a" already exists',
      reason: 'AlreadyExists',
      details: { name: 'a', group: 'batch', kind: 'jobs' },
      code: 409,
    })
  })

  it('refuses a Job without restartPolicy with 422 and the field', async () => {
    const bad = job('b')
    delete bad.spec!.template.spec!.restartPolicy
    const err = (await batch.createNamespacedJob({ namespace: 'forge', body: bad }).catch((e: unknown) => e)) as ApiException<string>
    expect(err.code).toBe(422)
    expect(JSON.parse(err.body).details.causes[0].field).toBe('spec.template.spec.restartPolicy')
  })

  it('answers 401 without the token and 404 with a Status naming the Job', async () => {
    const anon = kubeConfigFor(api.url, 'wrong').makeApiClient(BatchV1Api)
    expect(((await anon.listNamespacedJob({ namespace: 'forge' }).catch((e: unknown) => e)) as ApiException<string>).code).toBe(401)
    const err = (await batch.readNamespacedJob({ name: 'nope', namespace: 'forge' }).catch((e: unknown) => e)) as ApiException<string>
    expect(err.code).toBe(404)
    expect(JSON.parse(err.body).message).toBe('jobs.batch "nope" not found')
  })

  it('runs one pod per Job and follows it to the two-step terminal conditions', async () => {
    await batch.createNamespacedJob({ namespace: 'forge', body: job('c') })
    await new Promise((r) => setTimeout(r, 20))
    const pod = api.pod('forge', 'c')!
    expect(pod.metadata.name).toMatch(/^c-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    expect(pod.metadata.finalizers).toEqual(['batch.kubernetes.io/job-tracking'])
    api.kubelet.schedule(pod, 'n1')
    api.kubelet.running(pod)
    api.kubelet.exit(pod, 0)
    const done = await batch.readNamespacedJob({ name: 'c', namespace: 'forge' })
    expect(done.status!.conditions!.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete'])
    expect(done.status!.completionTime).toBeTruthy()
    const pods = await core.listNamespacedPod({ namespace: 'forge', labelSelector: 'job-name=c' })
    expect(pods.items).toHaveLength(1)
  })

  it('orphans pods when a Job is deleted without a policy, with the warning header; Background removes them', async () => {
    await batch.createNamespacedJob({ namespace: 'forge', body: job('d') })
    await batch.createNamespacedJob({ namespace: 'forge', body: job('e') })
    await new Promise((r) => setTimeout(r, 20))
    const res = await fetch(`${api.url}/apis/batch/v1/namespaces/forge/jobs/d`, { method: 'DELETE', headers: { authorization: 'Bearer test-token' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('warning')).toMatch(/child pods are preserved by default/)
    expect(((await res.json()) as { metadata: { finalizers: string[] } }).metadata.finalizers).toContain('orphan')
    await batch.deleteNamespacedJob({ name: 'e', namespace: 'forge', propagationPolicy: 'Background' })
    await new Promise((r) => setTimeout(r, 60))
    const pods = await core.listNamespacedPod({ namespace: 'forge' })
    expect(pods.items.map((p) => p.metadata!.name!.split('-')[0])).toEqual(['d'])
    expect(pods.items[0]!.metadata!.ownerReferences).toEqual([])
  })

  it('rejects field selectors the API does not support', async () => {
    const err = (await core
      .listNamespacedPod({ namespace: 'forge', fieldSelector: 'spec.containers=x' })
      .catch((e: unknown) => e)) as ApiException<string>
    expect(err.code).toBe(400)
    expect(JSON.parse(err.body).message).toBe('field label not supported: spec.containers')
  })

  it('pages a list with limit and continue over one snapshot; an expired token is 410 Expired', async () => {
    for (const name of ['p1', 'p2', 'p3']) await batch.createNamespacedJob({ namespace: 'forge', body: job(name) })
    const first = await batch.listNamespacedJob({ namespace: 'forge', limit: 2 })
    expect(first.items.map((j) => j.metadata!.name)).toEqual(['p1', 'p2'])
    expect(first.metadata!.remainingItemCount).toBe(1)
    // Created after the first page: not in this list's snapshot.
    await batch.createNamespacedJob({ namespace: 'forge', body: job('p4') })
    const rest = await batch.listNamespacedJob({ namespace: 'forge', limit: 2, _continue: first.metadata!._continue })
    expect(rest.items.map((j) => j.metadata!.name)).toEqual(['p3'])
    expect([rest.metadata!._continue, rest.metadata!.resourceVersion]).toEqual([undefined, first.metadata!.resourceVersion])
    // With a selector the server leaves remainingItemCount out.
    const selected = await batch.listNamespacedJob({ namespace: 'forge', limit: 1, labelSelector: 'adas-forge.io/managed=true' })
    expect([selected.items.length, selected.metadata!.remainingItemCount, !!selected.metadata!._continue]).toEqual([1, undefined, true])
    api.expireContinueTokens()
    const err = await batch.listNamespacedJob({ namespace: 'forge', limit: 1, _continue: selected.metadata!._continue }).catch((e: unknown) => e)
    expect((err as ApiException<string>).code).toBe(410)
    expect(JSON.parse((err as ApiException<string>).body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
      reason: 'Expired',
      code: 410,
    })
  })
})
