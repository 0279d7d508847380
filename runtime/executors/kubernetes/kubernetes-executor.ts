/**
 * Runs each attempt as a batch/v1 Job whose pod runs `forge task run --attempt ID` (docs/kubernetes.md). The
 * runner in the pod records its own result; this executor watches Jobs, pods and events with one LIST then WATCH
 * per namespace (no polling per Job), says how an attempt ended when the runner could not, copies the pod's
 * warnings into the attempt's log, deletes Jobs with an explicit propagation policy, and adopts its Jobs after a
 * restart. Jobs outlive the scheduler: close() stops watching and leaves them running.
 */
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node'
import { emitTo, type AttemptSpec, type AttemptStatus, type Executor, type ExecutorEvent, type OrphanAttempt } from '../executor.ts'
import { classifyAttempt, type AttemptVerdict } from './classify-attempt.ts'
import { MANAGED_LABEL, attemptIdOf, executorIdOf, jobName } from './job-identity.ts'
import { PREDECESSOR_WAIT_MS, stoppingPredecessors, waitForPredecessors, waitingNote } from './stopping-predecessors.ts'
import { WORKER_CONTAINER, buildJob } from './job-manifest.ts'
import { NamespaceWatch } from './namespace-watch.ts'
import { withApiRetries } from './api-retries.ts'
import { parseTaskConfig, type KubernetesDefaults } from './task-config.ts'

export interface KubernetesExecutorOptions {
  kc: KubeConfig
  defaults: KubernetesDefaults
  /** Jobs this scheduler keeps in flight at most (the cluster's queue, Kueue or not, holds the rest). */
  maxJobs: number
  /** An unschedulable pod fails its attempt after this long; time the Job spends suspended (Kueue) does not count. */
  pendingTimeoutMs: number
  /** Appends lines to an attempt's log in the store (pod events, the tail of a crashed worker's output). */
  appendLog: (attemptId: number, text: string) => Promise<void>
  resyncMs?: number
  /** How long a retry's Job waits at most for an earlier try's stopping pod (default PREDECESSOR_WAIT_MS). */
  predecessorWaitMs?: number
}

interface Tracked {
  key: string
  attemptId: number
  namespace: string
  name: string
  pendingMs: number
  pendingSince: number | null
  done: boolean
  seenEvents: Set<string>
  /** The pod's last state seen, kept after it is deleted: a disruption is told by the pod, which goes first. */
  lastPod: V1Pod | null
  /** Set while a Job-level failure waits for the pod events that explain it. */
  settle: NodeJS.Timeout | null
  settled: boolean
}

/** How long a Job's failure waits for its pod's last state before it is recorded as unexplained. */
const SETTLE_MS = 2000

/** Jobs whose early pod warnings are kept for an attempt not tracked yet. */
const MAX_UNTRACKED = 1000

/** How long after its end an attempt's log still takes its pod's events. */
const LATE_EVENTS_MS = 10_000

/** How long close() waits for finished attempts' Jobs to get their TTL. */
const CLOSE_WAIT_MS = 5000

/** Lines of a failed worker's output copied into the attempt's log, and their size at most. */
const TAIL_LINES = 200
const TAIL_BYTES = 64 * 1024

const SELECTOR = `${MANAGED_LABEL}=true`
/** Job conditions after which the Job controller does nothing more with the Job's pods. */
const JOB_ENDED = new Set(['Complete', 'Failed', 'FailureTarget', 'SuccessCriteriaMet'])
/** Pod events worth a warning line in the attempt's log (docs/kubernetes.md §8). */
const COPIED_EVENTS = new Set([
  'FailedScheduling',
  'BackOff',
  'Killing',
  'Preempting',
  'Preempted',
  'Evicted',
  'Failed',
  'FailedMount',
  'Unhealthy',
  'OOMKilling',
])

export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes'
  private batch: BatchV1Api
  private core: CoreV1Api
  private listeners = new Set<(e: ExecutorEvent) => void>()
  private byKey = new Map<string, Tracked>()
  private byJob = new Map<string, Tracked>()
  private watches = new Map<string, { jobs: NamespaceWatch<V1Job>; pods: NamespaceWatch<V1Pod>; events: NamespaceWatch<CoreV1Event> }>()
  private pendingTimer: NodeJS.Timeout
  /** Pod warnings that came before their attempt was tracked, by Job: copied once it is (launch or adoption). */
  private untracked = new Map<string, CoreV1Event[]>()
  private watchReady = new Map<string, Promise<void>>()
  /** The last note being written to each attempt's log (note()). */
  private notes = new Map<number, Promise<void>>()
  /** Ends of attempts still being written up (log tail, TTL): close() waits for them, or their Jobs would never get a TTL. */
  private finishing = new Set<Promise<void>>()
  private closed = false

  constructor(private o: KubernetesExecutorOptions) {
    this.batch = o.kc.makeApiClient(BatchV1Api)
    this.core = o.kc.makeApiClient(CoreV1Api)
    this.pendingTimer = setInterval(() => this.checkPending(), 1000)
    this.pendingTimer.unref()
  }

  onEvent(listener: (e: ExecutorEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async capacity(): Promise<number> {
    return Math.max(0, this.o.maxJobs - [...this.byKey.values()].filter((t) => !t.done).length)
  }

  async launch(spec: AttemptSpec): Promise<string> {
    const known = this.byKey.get(spec.key)
    if (known) return externalId(known)
    const config = parseTaskConfig(spec.taskId, spec.task.executor_config)
    const job = buildJob({ attempt: spec, timeoutMs: spec.task.timeout_ms, config, defaults: this.o.defaults })
    const namespace = job.metadata!.namespace!
    await this.watch(namespace)
    const stopping = this.stoppingBefore(namespace, spec)
    if (stopping.length === 0) {
      await this.createJob(spec, job)
      const t = this.track(spec.key, spec.attemptId, namespace, job.metadata!.name!)
      this.started(t)
      return externalId(t)
    }
    // An earlier try's pod is still stopping (disrupted, evicted): this try's Job waits for it, and the launch
    // answers now, since the scheduler launches its attempts one after the other.
    const t = this.track(spec.key, spec.attemptId, namespace, job.metadata!.name!)
    void this.note(t.attemptId, waitingNote(stopping, spec.tryNumber)).catch(() => {})
    void this.createOnceStopped(t, spec, job)
    return externalId(t)
  }

  /** Pods of earlier tries of this attempt's instance that are still stopping (stopping-predecessors.ts). */
  private stoppingBefore(namespace: string, spec: AttemptSpec): V1Pod[] {
    return stoppingPredecessors(this.watches.get(namespace)?.pods.values() ?? [], spec)
  }

  /** Creates the Job; a create retried after a lost answer, or an attempt launched twice, adopts the Job that exists. */
  private async createJob(spec: AttemptSpec, job: V1Job): Promise<void> {
    const namespace = job.metadata!.namespace!
    try {
      await withApiRetries(() => this.batch.createNamespacedJob({ namespace, body: job }))
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err
      const existing = await this.batch.readNamespacedJob({ name: job.metadata!.name!, namespace })
      if (attemptIdOf(existing.metadata?.labels) !== spec.attemptId)
        throw new Error(`Job ${namespace}/${job.metadata!.name} exists but belongs to another attempt`, { cause: err })
    }
  }

  private started(t: Tracked): void {
    this.emit({ type: 'started', key: t.key, externalId: externalId(t) })
    this.evaluate(t)
  }

  /**
   * Creates a tracked attempt's Job once no earlier try's pod is stopping, or after PREDECESSOR_WAIT_MS (a pod on a
   * node that is gone may never say it stopped). Cancelled meanwhile, it creates nothing; closed, it leaves the
   * attempt without a Job, which the next scheduler requeues spending nothing.
   */
  private async createOnceStopped(t: Tracked, spec: AttemptSpec, job: V1Job): Promise<void> {
    const ended = await waitForPredecessors({
      stopping: () => this.stoppingBefore(t.namespace, spec),
      abandoned: () => t.done || this.closed,
      maxMs: this.o.predecessorWaitMs ?? PREDECESSOR_WAIT_MS,
    })
    if (ended === 'abandoned') return
    if (ended === 'timed out')
      await this.note(t.attemptId, `[kubernetes] the earlier try's pod has not stopped in time; starting try ${spec.tryNumber} anyway\n`).catch(
        () => {},
      )
    if (t.done || this.closed) return
    try {
      await this.createJob(spec, job)
    } catch (err) {
      return this.finish(t, {
        state: 'failed',
        failureClass: 'infrastructure',
        nonRetryable: false,
        reason: `its Job could not be created: ${describe(err)}`,
      })
    }
    // Cancelled while the create was under way: the Job must go too.
    if (t.done) return void this.deleteJob(t).catch(() => {})
    this.started(t)
  }

  async cancel(key: string, reason: string): Promise<void> {
    const t = this.byKey.get(key)
    if (!t || t.done) return
    await this.deleteJob(t)
    this.finish(t, { state: 'failed', failureClass: 'task', nonRetryable: false, reason })
  }

  async status(keys: string[]): Promise<Map<string, AttemptStatus>> {
    return new Map(keys.map((k) => [k, this.byKey.has(k) ? (this.byKey.get(k)!.done ? 'finished' : 'running') : 'unknown']))
  }

  async adopt(attempts: OrphanAttempt[]): Promise<string[]> {
    await this.watch(this.o.defaults.namespace)
    const jobs = [...this.watches.values()].flatMap((w) => w.jobs.values())
    const adopted: string[] = []
    for (const a of attempts) {
      const job = jobs.find((j) => attemptIdOf(j.metadata?.labels) === a.attemptId)
      if (!job) continue
      const t = this.track(a.key, a.attemptId, job.metadata!.namespace!, job.metadata!.name!)
      adopted.push(a.key)
      // A Job that finished while no scheduler watched is decided now, from what it and its pod say.
      queueMicrotask(() => this.evaluate(t))
    }
    return adopted
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.pendingTimer)
    const bound = new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())
    await Promise.race([Promise.allSettled([...this.finishing]), bound])
    for (const w of this.watches.values()) for (const x of Object.values(w)) x.stop()
    this.watches.clear()
    this.watchReady.clear()
  }

  /** The Job name an attempt gets; exported for `forge tasks list`'s executor id and for tests. */
  static jobNameOf = jobName

  private track(key: string, attemptId: number, namespace: string, name: string): Tracked {
    const t: Tracked = {
      key,
      attemptId,
      namespace,
      name,
      pendingMs: 0,
      pendingSince: null,
      done: false,
      seenEvents: new Set(),
      lastPod: null,
      settle: null,
      settled: false,
    }
    this.byKey.set(key, t)
    const jobKey = `${namespace}/${name}`
    this.byJob.set(jobKey, t)
    const early = this.untracked.get(jobKey)
    this.untracked.delete(jobKey)
    for (const e of early ?? []) this.onPodEvent(namespace, e)
    return t
  }

  /** The namespace's watches, listed once: every launch waits for that, and a first list that fails fails them all. */
  private watch(namespace: string): Promise<void> {
    let ready = this.watchReady.get(namespace)
    if (!ready) {
      ready = this.startWatch(namespace)
      this.watchReady.set(namespace, ready)
      // Dropped on failure, so the next launch tries afresh.
      ready.catch(() => this.watchReady.delete(namespace))
    }
    return ready
  }

  private async startWatch(namespace: string): Promise<void> {
    const { kc, resyncMs } = this.o
    const onError = () => {}
    const jobs = new NamespaceWatch<V1Job>({
      kc,
      resyncMs,
      onError,
      path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
      labelSelector: SELECTOR,
      list: (page) => this.batch.listNamespacedJob({ namespace, labelSelector: SELECTOR, ...page }),
      onEvent: (type, job) => this.onJob(namespace, type, job),
    })
    const pods = new NamespaceWatch<V1Pod>({
      kc,
      resyncMs,
      onError,
      path: `/api/v1/namespaces/${namespace}/pods`,
      labelSelector: SELECTOR,
      list: (page) => this.core.listNamespacedPod({ namespace, labelSelector: SELECTOR, ...page }),
      onEvent: (_t, pod) => this.onPod(namespace, pod),
    })
    const events = new NamespaceWatch<CoreV1Event>({
      kc,
      resyncMs,
      onError,
      path: `/api/v1/namespaces/${namespace}/events`,
      labelSelector: '',
      list: (page) => this.core.listNamespacedEvent({ namespace, ...page }),
      onEvent: (type, e) => type !== 'DELETED' && this.onPodEvent(namespace, e),
    })
    this.watches.set(namespace, { jobs, pods, events })
    try {
      await Promise.all([jobs.start(), pods.start(), events.start()])
    } catch (err) {
      for (const w of [jobs, pods, events]) w.stop()
      this.watches.delete(namespace)
      throw new Error(`cannot list and watch Jobs, pods and events in namespace ${namespace}: ${describe(err)}`, { cause: err })
    }
  }

  private onJob(namespace: string, type: string, job: V1Job): void {
    const t = this.byJob.get(`${namespace}/${job.metadata?.name}`)
    if (!t || t.done) return
    if (type === 'DELETED')
      this.finish(t, {
        state: 'failed',
        failureClass: 'infrastructure',
        nonRetryable: false,
        reason: `Job ${namespace}/${t.name} was deleted before its attempt ended`,
      })
    else this.evaluate(t)
  }

  private onPod(namespace: string, pod: V1Pod): void {
    const owner = pod.metadata?.ownerReferences?.find((r) => r.kind === 'Job')?.name
    const t = owner ? this.byJob.get(`${namespace}/${owner}`) : undefined
    if (!t || t.done) return
    t.lastPod = pod
    this.evaluate(t)
  }

  private podOf(t: Tracked): V1Pod | null {
    if (t.lastPod) return t.lastPod
    const pods = this.watches.get(t.namespace)?.pods.values() ?? []
    return (t.lastPod = pods.find((p) => p.metadata?.ownerReferences?.some((r) => r.kind === 'Job' && r.name === t.name)) ?? null)
  }

  private evaluate(t: Tracked): void {
    if (t.done) return
    const job = this.watches.get(t.namespace)?.jobs.get(t.name)
    if (!job) return
    const verdict = classifyAttempt(job, this.podOf(t))
    if (verdict.state === 'pending' && !verdict.suspended && verdict.unschedulable) t.pendingSince ??= Date.now()
    else if (verdict.state === 'pending' && verdict.suspended && t.pendingSince !== null) {
      t.pendingMs += Date.now() - t.pendingSince
      t.pendingSince = null
    }
    if (verdict.state === 'failed' && verdict.unexplained && !t.settled) {
      t.settle ??= setTimeout(() => {
        t.settled = true
        this.evaluate(t)
      }, SETTLE_MS)
      return
    }
    if (verdict.state === 'succeeded' || verdict.state === 'failed') this.finish(t, verdict)
  }

  private checkPending(): void {
    for (const t of this.byKey.values()) {
      if (t.done || t.pendingSince === null) continue
      const waited = t.pendingMs + Date.now() - t.pendingSince
      if (waited < this.o.pendingTimeoutMs) continue
      const pod = this.podOf(t)
      const why = pod?.status?.conditions?.find((c) => c.reason === 'Unschedulable')?.message ?? 'unschedulable'
      void this.deleteJob(t)
      this.finish(t, {
        state: 'failed',
        failureClass: 'infrastructure',
        nonRetryable: false,
        reason: `unschedulable for ${Math.round(waited / 1000)}s (pending timeout): ${why}`,
      })
    }
  }

  private onPodEvent(namespace: string, e: CoreV1Event): void {
    if (e.involvedObject?.kind !== 'Pod' || !e.reason || !COPIED_EVENTS.has(e.reason)) return
    const jobNameOfPod = e.involvedObject.name?.replace(/-[a-z0-9]{5}$/, '')
    if (!jobNameOfPod) return
    const jobKey = `${namespace}/${jobNameOfPod}`
    const t = this.byJob.get(jobKey)
    if (!t) return this.keepUntracked(jobKey, e)
    const id = e.metadata?.uid ?? e.metadata?.name ?? ''
    if (t.seenEvents.has(id)) return
    t.seenEvents.add(id)
    void this.note(t.attemptId, `[kubernetes] warning: ${e.reason}: ${e.message ?? ''}\n`).catch(() => {})
  }

  /** Appends to an attempt's log, one note after the other, so notes read in the order their events came. */
  private note(attemptId: number, text: string): Promise<void> {
    const previous = this.notes.get(attemptId) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(() => this.o.appendLog(attemptId, text))
    this.notes.set(attemptId, next)
    void next.finally(() => this.notes.get(attemptId) === next && this.notes.delete(attemptId)).catch(() => {})
    return next
  }

  /** A warning about a pod whose attempt is not tracked yet: its create's answer may still be on its way. */
  private keepUntracked(jobKey: string, e: CoreV1Event): void {
    const kept = this.untracked.get(jobKey) ?? []
    this.untracked.delete(jobKey)
    this.untracked.set(jobKey, [...kept, e])
    // Bounded: warnings of Jobs this scheduler never tracks (other schedulers', finished ones) age out.
    if (this.untracked.size > MAX_UNTRACKED) this.untracked.delete(this.untracked.keys().next().value!)
  }

  private finish(t: Tracked, verdict: Extract<AttemptVerdict, { state: 'succeeded' | 'failed' }>): void {
    if (t.done) return
    t.done = true
    if (t.settle) clearTimeout(t.settle)
    if (verdict.state === 'succeeded') this.emit({ type: 'finished', key: t.key, outcome: { kind: 'recorded' } })
    else if (verdict.failureClass === 'infrastructure') this.emit({ type: 'finished', key: t.key, outcome: { kind: 'lost', reason: verdict.reason } })
    else
      this.emit({
        type: 'finished',
        key: t.key,
        outcome: { kind: 'result', ok: false, error: verdict.reason, reason: verdict.reason, nonRetryable: verdict.nonRetryable },
      })
    const after = this.afterFinish(t, verdict.state === 'failed')
    this.finishing.add(after)
    void after.finally(() => this.finishing.delete(after))
  }

  /**
   * Keeps a failed worker's last output, then lets Kubernetes delete the finished Job after its TTL. A Job whose
   * pod can never end by itself (stuck waiting: an image that cannot be pulled, a missing Secret) would never
   * finish, and the TTL applies only to finished Jobs: it is deleted instead.
   */
  private async afterFinish(t: Tracked, failed: boolean): Promise<void> {
    try {
      const pod = this.podOf(t)
      if (failed && pod?.metadata?.name && pod.spec?.nodeName) {
        // The tail: limitBytes alone would keep the first bytes of the log, not the last.
        const tail = await this.core
          .readNamespacedPodLog({ name: pod.metadata.name, namespace: t.namespace, container: WORKER_CONTAINER, tailLines: TAIL_LINES })
          .then((text) => (text.length > TAIL_BYTES ? text.slice(-TAIL_BYTES) : text))
          .catch(() => '')
        if (tail) await this.note(t.attemptId, `[kubernetes] the worker's last output:\n${tail}${tail.endsWith('\n') ? '' : '\n'}`)
      }
      if (this.stuck(t, pod)) return await this.deleteJob(t)
      const ttl = { spec: { ttlSecondsAfterFinished: this.o.defaults.ttlSecondsAfterFinished } }
      await this.batch.patchNamespacedJob(
        { name: t.name, namespace: t.namespace, body: ttl },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
    } catch {
      // The Job may be gone already (deleted on cancel); nothing is lost: the attempt is recorded.
    } finally {
      this.byKey.delete(t.key)
      // Events come on a watch of their own and may trail the pod's end (the kubelet's `Failed` for a missing
      // Secret does): the attempt's log takes them a while longer.
      const jobKey = `${t.namespace}/${t.name}`
      setTimeout(() => this.byJob.get(jobKey) === t && this.byJob.delete(jobKey), LATE_EVENTS_MS).unref()
    }
  }

  /** The Job has not ended and its pod is neither terminating nor done: nothing will ever finish it. */
  private stuck(t: Tracked, pod: V1Pod | null): boolean {
    const job = this.watches.get(t.namespace)?.jobs.get(t.name)
    if (!job || !pod) return false
    const ended = job.status?.conditions?.some((c) => c.status === 'True' && JOB_ENDED.has(c.type))
    const worker = pod.status?.containerStatuses?.find((s) => s.name === WORKER_CONTAINER)
    return !ended && !pod.metadata?.deletionTimestamp && !worker?.state?.terminated && pod.status?.phase === 'Pending'
  }

  private async deleteJob(t: Tracked): Promise<void> {
    try {
      // Always an explicit policy: batch/v1 orphans the pods otherwise (docs/kubernetes.md §6).
      await withApiRetries(() => this.batch.deleteNamespacedJob({ name: t.name, namespace: t.namespace, propagationPolicy: 'Background' }))
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err
    }
  }

  private emit(e: ExecutorEvent): void {
    emitTo(this.listeners, e)
  }
}

/** An API error as one line: client-node's ApiException carries the status code and the server's body. */
function describe(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}: ${String(err.body ?? '').slice(0, 300)}`
  return err instanceof Error ? err.message : String(err)
}

function externalId(t: { namespace: string; name: string }): string {
  return executorIdOf(t.namespace, t.name)
}
