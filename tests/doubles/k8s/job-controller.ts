/**
 * A simulated Job controller and kubelet (docs/kubernetes.md §4, §10): pods named `<job>-xxxxx`, owned by the Job
 * and held by the job-tracking finalizer until counted; a failed pod judged by the Job's podFailurePolicy, then
 * counted against backoffLimit and replaced after a backoff; terminal conditions in two steps (FailureTarget or
 * SuccessCriteriaMet first, Failed or Complete once the pod is gone or counted); deadlines from startTime; TTL
 * deletion with Foreground. What a pod's containers do is scripted by the test, or run through `runPod` (for
 * example as a real local process) after the kubelet has built the worker container's environment and command
 * line; a Secret or ConfigMap it names that does not exist leaves the pod in CreateContainerConfigError.
 */
import { ContainerConfigError, containerArgv, containerVariables, type ContainerSpec } from './container-env.ts'
import type { KObject, ObjectStore } from './object-store.ts'
import { matchPodFailurePolicy } from './pod-failure-policy.ts'
import { PodLogs } from './pod-logs.ts'

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
const TRACKING = 'batch.kubernetes.io/job-tracking'

function suffix(): string {
  let s = ''
  for (let i = 0; i < 5; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)]
  return s
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}

/** What the kubelet hands the container runtime for a pod's first container. */
export interface PodIo {
  container: ContainerSpec
  /** The container's environment: the image's, then envFrom, then env, as the kubelet resolves them. */
  env: Record<string, string>
  /** command + args with `$(NAME)` expanded. */
  argv: string[]
  /** Appends to the container's log (what `kubectl logs` and the pod log endpoint show). */
  log: (text: string) => void
  /**
   * Aborted when the pod is deleted or disrupted (reason 'terminate': SIGTERM, then SIGKILL after the grace
   * period) or the double closes (reason 'kill').
   */
  signal: AbortSignal
}

/** How a pod's worker ended: its exit code, or the terminated state's fields. */
export type PodExit = number | { exitCode: number; reason?: string; signal?: number }

export interface PodRun {
  (pod: KObject, io: PodIo): Promise<PodExit>
}

export interface KubeletOptions {
  /** The image's environment (its ENV lines): the image itself is never pulled or run. */
  imageEnv?: Record<string, string>
  /** The Job controller's wait before replacing a failed pod; Kubernetes starts at 10 s and doubles. */
  replacementBackoffMs?: number
  /** How often the kubelet retries a container whose Secret or ConfigMap was missing. */
  configRetryMs?: number
  /** The images a registry holds; a pod naming another stays in ErrImagePull, then ImagePullBackOff. Unset: every image. */
  images?: string[]
}

export class JobController {
  readonly logs = new PodLogs()
  /** When each pod's worker ended (ms), for measuring how soon an executor sees it. */
  readonly finishedAt = new Map<string, number>()
  private timers = new Set<NodeJS.Timeout>()
  /** Pods whose worker runs through runPod, with what stops it. */
  private runs = new Map<string, AbortController>()
  private held: { message: string; release: Promise<void>; open: () => void } | null = null
  private closed = false

  constructor(
    private store: ObjectStore,
    private emitEvent: (ns: string, involved: KObject, type: string, reason: string, message: string) => void,
    private runPod: PodRun | null,
    private kubelet: KubeletOptions = {},
  ) {
    // A pod gone from the API (garbage-collected, deadline, Background delete) has its containers stopped.
    store.onChange((e) => {
      if (e.resource === 'pods' && e.type === 'DELETED') this.runs.get(e.object.metadata.name)?.abort('terminate')
    })
  }

  onJobCreated(job: KObject): void {
    if (!job.spec!.suspend) this.start(job)
  }

  onJobChanged(job: KObject, before: KObject): void {
    if (before.spec!.suspend && !job.spec!.suspend && !this.finished(job)) this.start(job)
  }

  /**
   * Test hook: the scheduler finds no node for pods run through runPod (each gets PodScheduled=False and a
   * FailedScheduling event) until releaseScheduling().
   */
  holdScheduling(message: string): void {
    let open!: () => void
    const release = new Promise<void>((r) => (open = r))
    this.held = { message, release, open }
  }

  releaseScheduling(): void {
    this.held?.open()
    this.held = null
  }

  private start(job: KObject): void {
    this.store.update('jobs', job, (j) => {
      j.status = { ...j.status, startTime: now(), active: 1 }
    })
    const deadline = job.spec!.activeDeadlineSeconds as number | undefined
    if (deadline) this.later(deadline * 1000, () => this.deadlineExceeded(job))
    this.createPod(job)
  }

  private createPod(job: KObject): void {
    const name = `${job.metadata.name.slice(0, 57)}-${suffix()}`
    const template = structuredClone(job.spec!.template) as KObject
    const pod: KObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: job.metadata.namespace,
        labels: template.metadata?.labels ?? {},
        annotations: template.metadata?.annotations,
        finalizers: [TRACKING],
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: template.spec,
      status: { phase: 'Pending', conditions: [] },
    }
    this.store.create('pods', pod)
    this.emitEvent(job.metadata.namespace!, job, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`)
    if (this.runPod) void this.autoRun(pod)
  }

  private exists(pod: KObject): boolean {
    return this.store.get('pods', pod.metadata.namespace!, pod.metadata.name) === pod
  }

  private async autoRun(pod: KObject): Promise<void> {
    while (this.held && this.exists(pod)) {
      const held = this.held
      if (!pod.status!.conditions?.some((c: { reason?: string }) => c.reason === 'Unschedulable')) this.unschedulable(pod, held.message)
      await held.release
    }
    if (!this.exists(pod) || this.closed) return
    this.schedule(pod, 'node-1')
    const container = pod.spec!.containers[0] as ContainerSpec & { image: string }
    if (this.kubelet.images && !this.kubelet.images.includes(container.image)) return this.pullFailed(pod, container.image)
    let env: Record<string, string>
    let argv: string[]
    for (let warned = false; ; warned = true) {
      try {
        const vars = containerVariables(this.store, pod, container)
        argv = containerArgv(container, vars)
        // The runtime puts the image's variables underneath, and the pod's hostname.
        env = { ...this.kubelet.imageEnv, HOSTNAME: pod.metadata.name, ...vars }
        break
      } catch (err) {
        if (!(err instanceof ContainerConfigError)) throw err
        // The kubelet keeps the pod Pending and retries: the Secret may yet be created.
        if (!warned) this.configError(pod, container.name, err.message)
        await new Promise((r) => this.later(this.kubelet.configRetryMs ?? 1000, () => r(undefined)))
        if (!this.exists(pod) || this.closed) return
      }
    }
    this.running(pod)
    const stop = new AbortController()
    this.runs.set(pod.metadata.name, stop)
    const log = (text: string) => this.logs.append(pod.metadata.name, container.name, text)
    const ended: PodExit = await this.runPod!(pod, { container, env, argv, log, signal: stop.signal }).catch((err: Error) => {
      log(`${err.message}\n`)
      return { exitCode: 128, reason: 'StartError' }
    })
    this.runs.delete(pod.metadata.name)
    const exit = typeof ended === 'number' ? { exitCode: ended } : ended
    if (this.exists(pod)) this.exit(pod, exit.exitCode, exit.reason, exit.signal)
    else this.logs.end(pod.metadata.name, container.name)
  }

  // --- scripted kubelet and scheduler: what tests drive --------------------------------------------------------

  schedule(pod: KObject, node: string): void {
    this.store.update('pods', pod, (p) => {
      p.spec = { ...p.spec, nodeName: node }
      p.status!.conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now() }]
    })
    this.emitEvent(
      pod.metadata.namespace!,
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`,
    )
  }

  unschedulable(pod: KObject, message: string): void {
    this.store.update('pods', pod, (p) => {
      p.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now() }]
    })
    this.emitEvent(pod.metadata.namespace!, pod, 'Warning', 'FailedScheduling', message)
  }

  waiting(pod: KObject, reason: string, message: string): void {
    this.store.update('pods', pod, (p) => {
      p.status!.containerStatuses = [
        { name: 'worker', image: p.spec!.containers[0].image, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } },
      ]
    })
    if (reason === 'ImagePullBackOff') this.emitEvent(pod.metadata.namespace!, pod, 'Normal', 'BackOff', message)
  }

  /** The image does not exist: the kubelet's pull fails, then it backs off (kubelet images/image_manager.go). */
  private pullFailed(pod: KObject, image: string): void {
    const why = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`
    this.waiting(pod, 'ErrImagePull', why)
    this.emitEvent(pod.metadata.namespace!, pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${why}`)
    this.emitEvent(pod.metadata.namespace!, pod, 'Warning', 'Failed', 'Error: ErrImagePull')
    this.waiting(pod, 'ImagePullBackOff', `Back-off pulling image "${image}"`)
  }

  /** The kubelet could not build the container's configuration (kuberuntime's ErrCreateContainerConfig). */
  private configError(pod: KObject, container: string, message: string): void {
    this.store.update('pods', pod, (p) => {
      p.status!.containerStatuses = [
        {
          name: container,
          image: p.spec!.containers[0].image,
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'CreateContainerConfigError', message } },
        },
      ]
    })
    this.emitEvent(pod.metadata.namespace!, pod, 'Warning', 'Failed', `Error: ${message}`)
  }

  running(pod: KObject): void {
    this.store.update('pods', pod, (p) => {
      p.status!.phase = 'Running'
      p.status!.startTime = now()
      p.status!.containerStatuses = [
        {
          name: 'worker',
          image: p.spec!.containers[0].image,
          imageID: 'sha256:0',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: now() } },
        },
      ]
    })
  }

  exit(pod: KObject, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error', signal?: number): void {
    this.finishedAt.set(pod.metadata.name, Date.now())
    // The container's output is all there by the time the pod shows it terminated.
    this.logs.end(pod.metadata.name, 'worker')
    const startedAt = pod.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? now()
    this.store.update('pods', pod, (p) => {
      p.status!.phase = exitCode === 0 ? 'Succeeded' : 'Failed'
      p.status!.containerStatuses = [
        {
          name: 'worker',
          image: p.spec!.containers[0].image,
          imageID: 'sha256:0',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode, reason, ...(signal ? { signal } : {}), startedAt, finishedAt: now() } },
        },
      ]
    })
    this.podFinished(pod, exitCode === 0)
  }

  /**
   * A DisruptionTarget (preemption, taint eviction, API eviction, pod GC, kubelet), then the pod's end: a worker
   * run through runPod gets SIGTERM and the pod ends with whatever it exits with; a scripted one exits 143 at once.
   */
  disrupt(pod: KObject, reason: string, message: string): void {
    this.store.update('pods', pod, (p) => {
      p.metadata.deletionTimestamp = now()
      p.status!.conditions = [
        ...(p.status!.conditions ?? []),
        { type: 'DisruptionTarget', status: 'True', reason, message, lastTransitionTime: now() },
      ]
    })
    if (reason === 'PreemptionByScheduler')
      this.emitEvent(pod.metadata.namespace!, pod, 'Normal', 'Preempted', `Preempted by pod 1234 on node node-2`)
    this.emitEvent(pod.metadata.namespace!, pod, 'Normal', 'Killing', 'Stopping container worker')
    const run = this.runs.get(pod.metadata.name)
    if (run) return void run.abort('terminate')
    this.exit(pod, 143, 'Error')
  }

  // --- the controller's reactions -------------------------------------------------------------------------------

  private ownerOf(pod: KObject): KObject | undefined {
    const ref = pod.metadata.ownerReferences?.[0]
    return ref ? this.store.get('jobs', pod.metadata.namespace!, ref.name as string) : undefined
  }

  private finished(job: KObject): boolean {
    return (job.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Complete' || c.type === 'Failed')
  }

  private podFinished(pod: KObject, ok: boolean): void {
    const job = this.ownerOf(pod)
    // Counted: the finalizer goes, and a pod marked for deletion then disappears.
    this.store.update('pods', pod, (p) => {
      p.metadata.finalizers = (p.metadata.finalizers ?? []).filter((f) => f !== TRACKING)
    })
    if (pod.metadata.deletionTimestamp) this.store.remove('pods', pod)
    if (!job || this.finished(job)) return
    const succeeded = (job.status?.succeeded ?? 0) + (ok ? 1 : 0)
    if (ok)
      return this.terminal(job, 'SuccessCriteriaMet', 'Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', { succeeded })
    const policy = matchPodFailurePolicy(job, pod)
    if (policy?.action === 'FailJob')
      return this.terminal(job, 'FailureTarget', 'Failed', 'PodFailurePolicy', policy.message, { failed: (job.status?.failed ?? 0) + 1 })
    if (policy?.action === 'Ignore') return this.createPod(job)
    const failed = (job.status?.failed ?? 0) + 1
    if (failed > ((job.spec!.backoffLimit as number | undefined) ?? 6))
      return this.terminal(job, 'FailureTarget', 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', { failed })
    this.store.update('jobs', job, (j) => void (j.status = { ...j.status, failed }))
    const backoff = Math.min(600_000, (this.kubelet.replacementBackoffMs ?? 10_000) * 2 ** (failed - 1))
    this.later(backoff, () => {
      const current = this.store.get('jobs', job.metadata.namespace!, job.metadata.name)
      if (current && !this.finished(current) && !current.metadata.deletionTimestamp) this.createPod(current)
    })
  }

  private terminal(job: KObject, interim: string, final: string, reason: string, message: string, counts: Record<string, number>): void {
    const cond = (type: string) => ({ type, status: 'True', reason, message, lastProbeTime: now(), lastTransitionTime: now() })
    this.store.update('jobs', job, (j) => {
      j.status = { ...j.status, ...counts, active: 0, conditions: [...(j.status?.conditions ?? []), cond(interim)] }
    })
    this.store.update('jobs', job, (j) => {
      j.status!.conditions.push(cond(final))
      if (final === 'Complete') j.status!.completionTime = now()
    })
    this.emitEvent(
      job.metadata.namespace!,
      job,
      final === 'Complete' ? 'Normal' : 'Warning',
      final === 'Complete' ? 'Completed' : reason,
      final === 'Complete' ? 'Job completed' : message,
    )
    const ttl = job.spec!.ttlSecondsAfterFinished as number | undefined
    if (ttl !== undefined) this.later(ttl * 1000, () => this.deleteJob(job, 'Foreground'))
  }

  onTtlSet(job: KObject): void {
    const ttl = job.spec!.ttlSecondsAfterFinished as number | undefined
    if (ttl !== undefined && this.finished(job)) this.later(ttl * 1000, () => this.deleteJob(job, 'Foreground'))
  }

  private deadlineExceeded(job: KObject): void {
    const current = this.store.get('jobs', job.metadata.namespace!, job.metadata.name)
    if (!current || this.finished(current)) return
    for (const pod of this.podsOf(current)) {
      this.store.update('pods', pod, (p) => {
        p.metadata.deletionTimestamp = now()
      })
      this.store.remove('pods', pod)
    }
    this.terminal(current, 'FailureTarget', 'Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline', { failed: 1 })
  }

  podsOf(job: KObject): KObject[] {
    return this.store.list('pods', job.metadata.namespace).filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === job.metadata.uid))
  }

  /** The garbage collector's side of a Job deletion (docs/kubernetes.md §6). */
  deleteJob(job: KObject, policy: 'Background' | 'Foreground' | 'Orphan'): void {
    const current = this.store.get('jobs', job.metadata.namespace!, job.metadata.name)
    if (!current) return
    const pods = this.podsOf(current)
    if (policy === 'Orphan') {
      for (const p of pods) this.store.update('pods', p, (x) => void (x.metadata.ownerReferences = []))
      this.store.remove('jobs', current)
      return
    }
    if (policy === 'Background') this.store.remove('jobs', current)
    for (const p of pods) this.store.remove('pods', p)
    if (policy === 'Foreground') this.store.remove('jobs', current)
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      fn()
    }, ms)
    this.timers.add(t)
  }

  close(): void {
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    for (const run of this.runs.values()) run.abort('kill')
    this.releaseScheduling()
  }
}
