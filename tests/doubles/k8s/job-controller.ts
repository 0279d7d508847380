/**
 * A simulated Job controller (docs/kubernetes.md §3, §10): pods named `<job>-xxxxx`, owned by the Job and held by
 * the job-tracking finalizer until counted; a failed pod judged by the Job's podFailurePolicy, then counted
 * against backoffLimit and replaced after a doubling backoff; terminal conditions in two steps (FailureTarget or
 * SuccessCriteriaMet first, Failed or Complete once the pod is gone or counted); deadlines from startTime; TTL
 * deletion with Foreground. What happens to a pod once created is the kubelet's (kubelet.ts).
 */
import type { EmitEvent, FakeKubelet } from './kubelet.ts'
import type { KObject, ObjectStore } from './object-store.ts'
import { Timers } from './timers.ts'
import { matchPodFailurePolicy } from './pod-failure-policy.ts'

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

export class JobController {
  private timers = new Timers()

  constructor(
    private store: ObjectStore,
    private emitEvent: EmitEvent,
    private kubelet: FakeKubelet,
    /** The wait before a failed pod is replaced; Kubernetes starts at 10 s and doubles. */
    private replacementBackoffMs = 10_000,
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
    if (deadline) this.timers.later(deadline * 1000, () => this.deadlineExceeded(job))
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
    this.kubelet.created(pod)
  }

  private ownerOf(pod: KObject): KObject | undefined {
    const ref = pod.metadata.ownerReferences?.[0]
    return ref ? this.store.get('jobs', pod.metadata.namespace!, ref.name as string) : undefined
  }

  private finished(job: KObject): boolean {
    return (job.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Complete' || c.type === 'Failed')
  }

  /** A pod's worker ended (the kubelet says so). */
  podFinished(pod: KObject, ok: boolean): void {
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
    const backoff = Math.min(600_000, this.replacementBackoffMs * 2 ** (failed - 1))
    this.timers.later(backoff, () => {
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
    if (ttl !== undefined) this.timers.later(ttl * 1000, () => this.deleteJob(job, 'Foreground'))
  }

  onTtlSet(job: KObject): void {
    const ttl = job.spec!.ttlSecondsAfterFinished as number | undefined
    if (ttl !== undefined && this.finished(job)) this.timers.later(ttl * 1000, () => this.deleteJob(job, 'Foreground'))
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

  close(): void {
    this.timers.clear()
  }
}
