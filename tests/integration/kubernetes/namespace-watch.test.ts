/** LIST then WATCH against the API double: resume, both forms of 410, backoff, deletions seen after a re-list. */
import { BatchV1Api, type V1Job } from '@kubernetes/client-node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NamespaceWatch, type WatchEventType } from '../../../runtime/executors/kubernetes/namespace-watch.ts'
import { FakeKubeApi } from '../../doubles/k8s/api-server.ts'
import { kubeConfigFor } from '../../helpers/kube-client.ts'

const job = (name: string, labels = { 'adas-forge.io/managed': 'true' }): V1Job => ({
  metadata: { name, labels },
  spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'worker', image: 'forge:1' }] } } },
})

let api: FakeKubeApi
let batch: BatchV1Api
let watch: NamespaceWatch<V1Job>
let events: Array<[WatchEventType, string]>
let errors: unknown[]

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

beforeEach(async () => {
  api = new FakeKubeApi({ bookmarkEveryMs: 50 })
  const kc = kubeConfigFor(await api.start())
  batch = kc.makeApiClient(BatchV1Api)
  events = []
  errors = []
  watch = new NamespaceWatch<V1Job>({
    kc,
    path: '/apis/batch/v1/namespaces/forge/jobs',
    labelSelector: 'adas-forge.io/managed=true',
    list: () => batch.listNamespacedJob({ namespace: 'forge', labelSelector: 'adas-forge.io/managed=true' }),
    onEvent: (type, obj) => events.push([type, obj.metadata!.name!]),
    onError: (err) => errors.push(err),
    backoff: { minMs: 20, maxMs: 200 },
  })
})
afterEach(async () => {
  watch.stop()
  await api.close()
})

describe('NamespaceWatch', () => {
  it('lists first, then sees changes through one watch, and ignores Jobs outside its selector', async () => {
    await batch.createNamespacedJob({ namespace: 'forge', body: job('before') })
    await watch.start()
    expect(events).toEqual([['ADDED', 'before']])
    await batch.createNamespacedJob({ namespace: 'forge', body: job('after') })
    await batch.createNamespacedJob({ namespace: 'forge', body: job('foreign', { 'adas-forge.io/managed': 'false' }) })
    await until(() => events.some(([, n]) => n === 'after'))
    await new Promise((r) => setTimeout(r, 50))
    expect(events.map(([, n]) => n)).not.toContain('foreign')
    expect(watch.stats.lists).toBe(1)
    expect(api.requests.filter((r) => r.query.get('watch') === 'true')).toHaveLength(1)
  })

  it('resumes from the last resourceVersion after a dropped connection, replaying nothing twice', async () => {
    await watch.start()
    await batch.createNamespacedJob({ namespace: 'forge', body: job('one') })
    await until(() => events.length === 1)
    api.dropWatches()
    await batch.createNamespacedJob({ namespace: 'forge', body: job('two') })
    await until(() => events.length === 2)
    await new Promise((r) => setTimeout(r, 100))
    expect(events).toEqual([
      ['ADDED', 'one'],
      ['ADDED', 'two'],
    ])
    expect(watch.stats.lists).toBe(1)
  })

  it('re-lists on a 410 ERROR event and reports a Job deleted meanwhile as a deletion of the cached copy', async () => {
    await batch.createNamespacedJob({ namespace: 'forge', body: job('gone') })
    await watch.start()
    // Disconnected: the Job is deleted and the history compacted, so resuming from the old RV is 410 Expired.
    const stale = watch.get('gone')!.metadata!.resourceVersion
    api.dropWatches()
    await batch.deleteNamespacedJob({ name: 'gone', namespace: 'forge', propagationPolicy: 'Background' })
    api.store.compact()
    await until(() => events.some(([t, n]) => t === 'DELETED' && n === 'gone'))
    expect(watch.stats.expired).toBeGreaterThanOrEqual(1)
    expect(watch.stats.lists).toBe(2)
    expect(stale).toBeTruthy()
  })

  it('re-lists on an HTTP 410 to the watch request', async () => {
    await watch.start()
    api.failNext(/^GET .*\/jobs\?watch$/, 410)
    api.dropWatches()
    await batch.createNamespacedJob({ namespace: 'forge', body: job('later') })
    await until(() => events.some(([, n]) => n === 'later'))
    expect(watch.stats.expired).toBe(1)
    expect(watch.stats.lists).toBe(2)
  })

  it('backs off on server errors instead of hammering, and recovers', async () => {
    await watch.start()
    api.failNext(/^GET .*\/jobs\?watch$/, 500, 4)
    const before = api.requests.length
    api.dropWatches()
    await batch.createNamespacedJob({ namespace: 'forge', body: job('recovered') })
    await until(() => events.some(([, n]) => n === 'recovered'))
    expect(errors.length).toBe(4)
    // 4 failures and the successful watch; the create itself is one request too.
    expect(api.requests.length - before).toBeLessThanOrEqual(7)
  })

  it('lists in pages of limit with continue, and lists afresh when a continue token has expired mid-list', async () => {
    for (let i = 0; i < 7; i++) await batch.createNamespacedJob({ namespace: 'forge', body: job(`paged-${i}`) })
    const paged = new NamespaceWatch<V1Job>({
      kc: kubeConfigFor(api.url),
      path: '/apis/batch/v1/namespaces/forge/jobs',
      labelSelector: 'adas-forge.io/managed=true',
      pageSize: 3,
      list: (page) => batch.listNamespacedJob({ namespace: 'forge', labelSelector: 'adas-forge.io/managed=true', ...page }),
      onEvent: (type, obj) => events.push([type, obj.metadata!.name!]),
    })
    // The second page's token is gone by the time it is asked for: the list starts over.
    api.expireContinueTokens({ next: true })
    try {
      await paged.start()
    } finally {
      paged.stop()
    }
    const lists = () => api.requests.filter((r) => r.method === 'GET' && !r.query.get('watch'))
    expect(events.map(([t, n]) => `${t} ${n}`).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `ADDED paged-${i}`))
    const asked = lists().map((r) => [r.query.get('limit'), r.query.get('continue') ? 'continue' : 'first'])
    expect(asked.every(([limit]) => limit === '3')).toBe(true)
    // The first page, its continuation refused as expired, then three pages for seven Jobs.
    expect(asked.map(([, c]) => c)).toEqual(['first', 'continue', 'first', 'continue', 'continue'])
    expect(paged.stats.lists).toBe(1)
  })
})
