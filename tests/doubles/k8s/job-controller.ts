/**
 * A simulated Job controller and kubelet (docs/kubernetes.md §4, §10): one pod per Job, named `<job>-xxxxx`, owned
 * by the Job and held by the job-tracking finalizer; terminal conditions in two steps (FailureTarget or
 * SuccessCriteriaMet first, Failed or Complete once the pod is gone or counted); deadlines from startTime; TTL
 * deletion with Foreground. What the pod's containers do is scripted by the test, or run as a real local process
 * through `runPod`.
 */
import type { KObject, ObjectStore } from './object-store.ts'

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

export interface PodRun {
  /** Resolves with the worker's exit code; `log` appends to the pod's log. */
  (pod: KObject, log: (text: string) => void): Promise<number>
}

export class JobController {
  readonly logs = new Map<string, string>()
  /** When each pod's worker ended (ms), for measuring how soon an executor sees it. */
  readonly finishedAt = new Map<string, number>()
  private timers = new Set<NodeJS.Timeout>()

  constructor(
    private store: ObjectStore,
    private emitEvent: (ns: string, involved: KObject, type: string, reason: string, message: string) => void,
    private runPod: PodRun | null,
  ) {}

  onJobCreated(job: KObject): void {
    if (!job.spec!.suspend) this.start(job)
  }

  onJobChanged(job: KObject, before: KObject): void {
    if (before.spec!.suspend && !job.spec!.suspend && !this.finished(job)) this.start(job)
  }

  private start(job: KObject): void {
    this.store.update('jobs', job, (j) => {
      j.status = { ...j.status, startTime: now(), active: 1 }
    })
    const deadline = job.spec!.activeDeadlineSeconds as number | undefined
    if (deadline) this.later(deadline * 1000, () => this.deadlineExceeded(job))
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

  private async autoRun(pod: KObject): Promise<void> {
    this.schedule(pod, 'node-1')
    this.running(pod)
    const code = await this.runPod!(pod, (text) => this.logs.set(pod.metadata.name, (this.logs.get(pod.metadata.name) ?? '') + text)).catch(() => 1)
    if (this.store.get('pods', pod.metadata.namespace!, pod.metadata.name)) this.exit(pod, code)
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

  exit(pod: KObject, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): void {
    this.finishedAt.set(pod.metadata.name, Date.now())
    this.store.update('pods', pod, (p) => {
      p.status!.phase = exitCode === 0 ? 'Succeeded' : 'Failed'
      p.status!.containerStatuses = [
        {
          name: 'worker',
          image: p.spec!.containers[0].image,
          imageID: 'sha256:0',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode, reason, startedAt: now(), finishedAt: now() } },
        },
      ]
    })
    this.podFinished(pod, exitCode === 0)
  }

  /** A DisruptionTarget (preemption, taint eviction, API eviction, pod GC, kubelet) followed by the pod's end. */
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
    this.store.update('pods', pod, (p) => {
      p.status!.phase = 'Failed'
      p.status!.containerStatuses = [
        {
          name: 'worker',
          image: p.spec!.containers[0].image,
          imageID: 'sha256:0',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 143, reason: 'Error' } },
        },
      ]
    })
    this.podFinished(pod, false)
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
    if (ok) this.terminal(job, 'SuccessCriteriaMet', 'Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', { succeeded: 1 })
    else this.terminal(job, 'FailureTarget', 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', { failed: 1 })
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
    for (const t of this.timers) clearTimeout(t)
  }
}
