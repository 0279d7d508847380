/**
 * An in-repo double of the kube-apiserver for the Kubernetes executor's tests, reached through the real
 * @kubernetes/client-node. docs/kubernetes.md §10 says what it implements and what
 * it leaves out. Test support only: the product talks to real clusters.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { discoveryDocument } from './discovery.ts'
import { JobController } from './job-controller.ts'
import { FakeKubelet, type KubeletOptions, type PodRun } from './kubelet.ts'
import { ObjectStore, type KObject } from './object-store.ts'
import { podFailurePolicyCauses } from './pod-failure-policy.ts'
import { podLogRequest } from './pod-log-request.ts'
import { forbidden, type RbacOptions } from './rbac.ts'
import { BadSelector, fieldMatcher, labelMatcher } from './selectors.ts'
import { status, type StatusBody } from './status.ts'
import { serveWatch } from './watch-stream.ts'

interface ListPage {
  items: KObject[]
  resourceVersion: string
}

const RESOURCES = new Set(['jobs', 'pods', 'events', 'secrets', 'configmaps'])

const ORPHAN_WARNING =
  '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"'

export interface FakeKubeOptions {
  token?: string
  /** Runs each pod's worker as the test wishes (for example as a real local process); unset: tests script pods. */
  runPod?: PodRun
  /** The image's environment, the registry's images, the kubelet's config retry. */
  kubelet?: KubeletOptions
  /** The Job controller's wait before replacing a failed pod (Kubernetes: 10 s, doubling). */
  replacementBackoffMs?: number
  bookmarkEveryMs?: number
  /** Delay before each watch event is written, as a busy API server and network add. */
  watchLatencyMs?: number
  /** Authorizes each resource request by these rules (rbac.ts); unset: everything is allowed. */
  rbac?: RbacOptions
}

export class FakeKubeApi {
  readonly store = new ObjectStore()
  readonly controller: JobController
  readonly kubelet: FakeKubelet
  /** Every request, for assertions ("no polling per Job"). */
  readonly requests: Array<{ method: string; path: string; query: URLSearchParams }> = []
  /** Every 403 answered, with the request it refused (rbac). */
  readonly denied: Array<{ method: string; path: string; message: string }> = []
  private server: Server
  private streams = new Set<ServerResponse>()
  private logStreams = new Set<ServerResponse>()
  private faults: Array<{ match: RegExp; code: number; times: number }> = []
  private eventSeq = 0
  /** The rest of each paged list's snapshot, by continue token. */
  private continues = new Map<string, ListPage>()
  private continueSeq = 0
  private expireNextContinue = false
  url = ''

  constructor(private opts: FakeKubeOptions = {}) {
    const emit = (ns: string, involved: KObject, type: string, reason: string, message: string) => this.event(ns, involved, type, reason, message)
    this.kubelet = new FakeKubelet(this.store, emit, opts.runPod ?? null, opts.kubelet ?? {}, (pod, ok) => this.controller.podFinished(pod, ok))
    this.controller = new JobController(this.store, emit, this.kubelet, opts.replacementBackoffMs)
    this.store.onChange((e) => {
      if (e.resource !== 'jobs') return
      if (e.type === 'ADDED')
        queueMicrotask(() =>
          this.controller.onJobCreated(
            e.object.metadata.name ? this.store.get('jobs', e.object.metadata.namespace!, e.object.metadata.name)! : e.object,
          ),
        )
      else if (e.type === 'MODIFIED' && e.previous) {
        const current = this.store.get('jobs', e.object.metadata.namespace!, e.object.metadata.name)
        if (current) {
          const before = e.previous
          queueMicrotask(() => this.controller.onJobChanged(current, before))
        }
      }
    })
    this.server = createServer((req, res) => void this.handle(req, res))
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this.url
  }

  async close(): Promise<void> {
    this.controller.close()
    this.kubelet.close()
    for (const s of [...this.streams, ...this.logStreams]) s.destroy()
    this.server.closeAllConnections()
    await new Promise((r) => this.server.close(r))
  }

  /**
   * Test hook: answer the next `times` requests matching with `code` (a Status, or APF's plain 429). Matched
   * against `METHOD /path`, with `?watch` appended for watch requests.
   */
  failNext(match: RegExp, code: number, times = 1): void {
    this.faults.push({ match, code, times })
  }

  /** Test hook: cut every open watch connection, as a load balancer or an API server restart does. */
  dropWatches(): void {
    for (const s of this.streams) s.destroy()
    this.streams.clear()
  }

  watchCount(): number {
    return this.streams.size
  }

  pod(ns: string, jobName: string): KObject | undefined {
    return this.store.list('pods', ns).find((p) => p.metadata.ownerReferences?.some((r) => r.name === jobName))
  }

  private event(ns: string, involved: KObject, type: string, reason: string, message: string): void {
    const kind = involved.kind ?? (involved.metadata.ownerReferences ? 'Pod' : 'Job')
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.metadata.name}.${(++this.eventSeq).toString(16)}`, namespace: ns },
      involvedObject: {
        kind,
        namespace: ns,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        apiVersion: kind === 'Job' ? 'batch/v1' : 'v1',
      },
      reason,
      message,
      type,
      source: { component: kind === 'Job' ? 'job-controller' : 'kubelet' },
      firstTimestamp: new Date().toISOString(),
      lastTimestamp: new Date().toISOString(),
      count: 1,
    })
  }

  private send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(code, { 'Content-Type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

  private fail(res: ServerResponse, body: StatusBody): void {
    this.send(res, body.code!, body)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://x')
    this.requests.push({ method: req.method!, path: url.pathname, query: url.searchParams })
    if (this.opts.token && req.headers.authorization !== `Bearer ${this.opts.token}`) return this.fail(res, status.unauthorized())
    const watching = url.searchParams.get('watch') === 'true' ? '?watch' : ''
    const fault = this.faults.find((f) => f.times > 0 && f.match.test(`${req.method} ${url.pathname}${watching}`))
    if (fault) {
      fault.times--
      if (fault.code === 429) {
        res.writeHead(429, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' })
        return void res.end('Too many requests, please try again later.\n')
      }
      return this.fail(res, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'injected failure',
        reason: 'InternalError',
        code: fault.code,
      })
    }
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const body = text ? JSON.parse(text) : undefined
    if (req.method === 'GET') {
      const doc = discoveryDocument(url.pathname, req.headers.host ?? '')
      if (doc) return this.send(res, 200, doc)
      if (/^\/(healthz|livez|readyz)$/.test(url.pathname)) {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
        return void res.end('ok')
      }
    }
    const m = url.pathname.match(/^\/(apis\/batch\/v1|api\/v1)\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?(?:\/(log|status))?$/)
    // Each resource lives in its own group: jobs in batch/v1, the rest in the core group.
    if (!m || !RESOURCES.has(m[3]!) || (m[3] === 'jobs') !== (m[1] === 'apis/batch/v1'))
      return this.fail(res, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server could not find the requested resource',
        reason: 'NotFound',
        details: {},
        code: 404,
      })
    const group = m[1] === 'apis/batch/v1' ? 'batch' : ''
    m.splice(1, 1)
    const [, ns, resource, name, sub] = m as unknown as [string, string, string, string | undefined, string | undefined]
    const denial =
      this.opts.rbac && forbidden(this.opts.rbac, { method: req.method!, group, namespace: ns, resource, name, subresource: sub, watch: !!watching })
    if (denial) {
      this.denied.push({ method: req.method!, path: url.pathname, message: denial.message! })
      return this.fail(res, denial)
    }
    try {
      if (!name && req.method === 'GET') return this.listOrWatch(res, resource, ns, url.searchParams)
      if (resource === 'jobs' && !name && req.method === 'POST') return this.createJob(res, ns, body)
      if ((resource === 'secrets' || resource === 'configmaps') && !name && req.method === 'POST') return this.createData(res, resource, ns, body)
      if (!name) return this.fail(res, status.badRequest(`method ${req.method} not supported`))
      const obj = this.store.get(resource, ns, name)
      if (!obj) return this.fail(res, status.notFound(resource, name))
      if (sub === 'log' && resource === 'pods') return this.podLog(res, obj, url.searchParams)
      if (req.method === 'GET') return this.send(res, 200, obj)
      if (req.method === 'DELETE') return this.delete(res, resource, obj, body, url.searchParams)
      if (req.method === 'PATCH' && resource === 'jobs') return this.patchJob(res, obj, body, String(req.headers['content-type'] ?? ''))
      return this.fail(res, status.badRequest(`method ${req.method} not supported`))
    } catch (err) {
      if (err instanceof BadSelector) return this.fail(res, status.badRequest(err.message))
      throw err
    }
  }

  private listOrWatch(res: ServerResponse, resource: string, ns: string, q: URLSearchParams): void {
    const labels = labelMatcher(q.get('labelSelector') ?? undefined)
    const fields = fieldMatcher(resource, q.get('fieldSelector') ?? undefined)
    const matches = (o: KObject) => labels(o) && fields(o)
    const kind = { jobs: 'Job', pods: 'Pod', events: 'Event', secrets: 'Secret', configmaps: 'ConfigMap' }[resource]!
    const apiVersion = resource === 'jobs' ? 'batch/v1' : 'v1'
    const watch = q.get('watch')
    if (watch && watch !== 'false' && watch !== '0') {
      const timeout = q.get('timeoutSeconds')
      return serveWatch(
        this.store,
        {
          resource,
          kind,
          apiVersion,
          namespace: ns,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          matches,
          bookmarks: q.get('allowWatchBookmarks') === 'true',
          timeoutSeconds: timeout ? Number(timeout) : undefined,
        },
        res,
        this.streams,
        this.opts.bookmarkEveryMs ?? 1000,
        this.opts.watchLatencyMs ?? 0,
      )
    }
    this.sendList(res, { kind: `${kind}List`, apiVersion }, q, () => ({
      items: this.store.list(resource, ns).filter(matches),
      resourceVersion: String(this.store.currentRv()),
    }))
  }

  /**
   * A list, paged when `limit` asks (docs/kubernetes.md §5): each page but the last carries a `continue` token for
   * the rest of the same snapshot; `remainingItemCount` only without selectors; a token that is gone is 410 Expired.
   */
  private sendList(res: ServerResponse, head: { kind: string; apiVersion: string }, q: URLSearchParams, snapshot: () => ListPage): void {
    const token = q.get('continue')
    let page: ListPage
    if (token && this.expireNextContinue) {
      this.expireNextContinue = false
      this.continues.delete(token)
    }
    if (token) {
      const kept = this.continues.get(token)
      if (!kept)
        return this.fail(
          res,
          status.expired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          ),
        )
      this.continues.delete(token)
      page = kept
    } else page = snapshot()
    const limit = Number(q.get('limit') ?? 0)
    if (!(limit > 0) || page.items.length <= limit)
      return this.send(res, 200, { ...head, metadata: { resourceVersion: page.resourceVersion }, items: page.items })
    const next = Buffer.from(JSON.stringify({ rv: page.resourceVersion, n: ++this.continueSeq })).toString('base64url')
    this.continues.set(next, { items: structuredClone(page.items.slice(limit)), resourceVersion: page.resourceVersion })
    const selected = q.get('labelSelector') || q.get('fieldSelector')
    const metadata = {
      resourceVersion: page.resourceVersion,
      continue: next,
      ...(selected ? {} : { remainingItemCount: page.items.length - limit }),
    }
    this.send(res, 200, { ...head, metadata, items: page.items.slice(0, limit) })
  }

  /**
   * Test hook: every continue token given so far expires, as the API server's do once etcd compacts; with `next`,
   * the one the next continued list brings expires then, mid-list.
   */
  expireContinueTokens(o: { next?: boolean } = {}): void {
    if (o.next) this.expireNextContinue = true
    else this.continues.clear()
  }

  private createJob(res: ServerResponse, ns: string, job: KObject): void {
    const name = job.metadata?.name
    const template = job.spec?.template ?? {}
    const restart = template.spec?.restartPolicy
    const causes: Array<{ reason: string; message: string; field: string }> = []
    if (restart !== 'Never' && restart !== 'OnFailure')
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value: valid values: "OnFailure", "Never"',
        field: 'spec.template.spec.restartPolicy',
      })
    if (name && name.length > 63)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": must be no more than 63 characters`,
        field: 'spec.template.labels',
      })
    causes.push(...podFailurePolicyCauses(job.spec ?? {}))
    if (causes.length) return this.fail(res, status.invalid('Job', name ?? '', causes))
    const existing = this.store.get('jobs', ns, name)
    if (existing) return this.fail(res, status.alreadyExists('jobs', name, !!existing.metadata.deletionTimestamp))
    const spec = job.spec!
    spec.parallelism ??= 1
    spec.completions ??= 1
    spec.backoffLimit ??= 6
    spec.completionMode ??= 'NonIndexed'
    spec.suspend ??= false
    spec.manualSelector ??= false
    spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed'
    job.metadata.namespace = ns
    job.metadata.uid = crypto.randomUUID()
    template.metadata ??= {}
    template.metadata.labels = {
      'batch.kubernetes.io/controller-uid': job.metadata.uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': job.metadata.uid,
      'job-name': name,
      ...template.metadata.labels,
    }
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid } }
    if (!job.metadata.labels || Object.keys(job.metadata.labels).length === 0) job.metadata.labels = { ...template.metadata.labels }
    job.status = {}
    this.send(res, 201, this.store.create('jobs', { ...job, kind: 'Job', apiVersion: 'batch/v1' }))
  }

  /** Secrets and ConfigMaps, which the kubelet reads a container's environment from; a Secret's stringData becomes data. */
  private createData(res: ServerResponse, resource: 'secrets' | 'configmaps', ns: string, obj: KObject): void {
    const name = obj.metadata?.name
    if (this.store.get(resource, ns, name)) return this.fail(res, status.alreadyExists(resource, name, false))
    obj.metadata.namespace = ns
    if (resource === 'secrets') {
      const encoded = Object.fromEntries(
        Object.entries((obj.stringData ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      )
      obj.data = { ...((obj.data ?? {}) as Record<string, string>), ...encoded }
      delete obj.stringData
      obj.type ??= 'Opaque'
    }
    const kind = resource === 'secrets' ? 'Secret' : 'ConfigMap'
    this.send(res, 201, this.store.create(resource, { ...obj, kind, apiVersion: 'v1' }))
  }

  private delete(res: ServerResponse, resource: string, obj: KObject, body: Record<string, unknown> | undefined, q: URLSearchParams): void {
    // DeleteOptions come from a non-empty body only; the query is read when there is none.
    const opts = body && Object.keys(body).length ? body : Object.fromEntries(q)
    if (resource === 'secrets' || resource === 'configmaps' || resource === 'events') {
      this.store.remove(resource, obj)
      return this.send(res, 200, status.success(resource, obj.metadata.name, obj.metadata.uid!))
    }
    if (resource === 'pods') {
      this.store.update('pods', obj, (p) => void (p.metadata.deletionTimestamp = new Date().toISOString()))
      const copy = structuredClone(obj)
      if (!(obj.metadata.finalizers ?? []).length) this.store.remove('pods', obj)
      return this.send(res, 200, copy)
    }
    const policy =
      (opts.propagationPolicy as string | undefined) ??
      (opts.orphanDependents === 'false' || opts.orphanDependents === false ? 'Background' : 'Orphan')
    const headers: Record<string, string> = opts.propagationPolicy || opts.orphanDependents !== undefined ? {} : { Warning: ORPHAN_WARNING }
    if (policy === 'Background') {
      this.store.remove('jobs', obj)
      queueMicrotask(() => {
        for (const p of this.controller.podsOf(obj)) this.store.remove('pods', p)
      })
      return this.send(res, 200, status.success('jobs', obj.metadata.name, obj.metadata.uid!), headers)
    }
    this.store.update('jobs', obj, (j) => {
      j.metadata.deletionTimestamp = new Date().toISOString()
      j.metadata.finalizers = [...(j.metadata.finalizers ?? []), policy === 'Foreground' ? 'foregroundDeletion' : 'orphan']
    })
    const copy = structuredClone(obj)
    setTimeout(() => this.controller.deleteJob(obj, policy as 'Foreground' | 'Orphan'), 20)
    this.send(res, 200, copy, headers)
  }

  private patchJob(res: ServerResponse, job: KObject, patch: unknown, contentType: string): void {
    const type = contentType.split(';')[0]!.trim()
    if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
      const p = patch as { spec?: Record<string, unknown>; metadata?: { labels?: Record<string, string> } }
      this.store.update('jobs', job, (j) => {
        Object.assign(j.spec!, p.spec ?? {})
        if (p.metadata?.labels) j.metadata.labels = { ...j.metadata.labels, ...p.metadata.labels }
      })
    } else if (type === 'application/json-patch+json') {
      for (const op of patch as Array<{ op: string; path: string; value: unknown }>) {
        const [, top, key] = op.path.split('/')
        if ((op.op === 'replace' || op.op === 'add') && (top === 'spec' || top === 'metadata') && key)
          this.store.update('jobs', job, (j) => void ((j[top] as Record<string, unknown>)[key] = op.value))
      }
    } else {
      return this.fail(res, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
        reason: 'UnsupportedMediaType',
        code: 415,
      })
    }
    this.controller.onTtlSet(job)
    this.send(res, 200, job)
  }

  /** docs/kubernetes.md §8: a pod's log, whole or followed until the container ends (pod-log-request.ts decides which). */
  private podLog(res: ServerResponse, pod: KObject, q: URLSearchParams): void {
    const answer = podLogRequest(pod, q)
    if ('error' in answer) return this.fail(res, answer.error)
    if ('noContent' in answer) {
      res.writeHead(204)
      return void res.end()
    }
    const { container, options } = answer
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    if (!answer.follow) return void res.end(this.kubelet.logs.read(pod.metadata.name, container, options))
    res.flushHeaders()
    this.logStreams.add(res)
    const stop = this.kubelet.logs.follow(
      pod.metadata.name,
      container,
      options,
      (text) => void res.write(text),
      () => {
        this.logStreams.delete(res)
        res.end()
      },
    )
    res.on('close', () => {
      stop()
      this.logStreams.delete(res)
    })
  }
}
