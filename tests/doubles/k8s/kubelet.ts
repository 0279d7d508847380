/**
 * The double's kubelet and scheduler (docs/kubernetes.md §4, §8, §10): what happens to a pod once the Job
 * controller created it. Tests script each step (schedule, waiting, running, exit, disruption), or a `runPod`
 * hook runs the worker (for example as a real local process) once the kubelet has pulled the image, built the
 * container's environment and command line, and started it; a Secret or ConfigMap it names that does not exist
 * leaves the pod in CreateContainerConfigError. A pod's end goes back to the Job controller.
 */
import { ContainerConfigError, containerArgv, containerVariables, type ContainerSpec } from './container-env.ts'
import type { KObject, ObjectStore } from './object-store.ts'
import { Timers } from './timers.ts'
import { PodLogs } from './pod-logs.ts'

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
  /** How often the kubelet retries a container whose Secret or ConfigMap was missing. */
  configRetryMs?: number
  /** The images a registry holds; a pod naming another stays in ErrImagePull, then ImagePullBackOff. Unset: every image. */
  images?: string[]
}

export type EmitEvent = (ns: string, involved: KObject, type: string, reason: string, message: string) => void

export class FakeKubelet {
  readonly logs = new PodLogs()
  /** When each pod's worker ended (ms), for measuring how soon an executor sees it. */
  readonly finishedAt = new Map<string, number>()
  private timers = new Timers()
  /** Pods whose worker runs through runPod, with what stops it. */
  private runs = new Map<string, AbortController>()
  private held: { message: string; release: Promise<void>; open: () => void } | null = null
  private closed = false

  constructor(
    private store: ObjectStore,
    private emitEvent: EmitEvent,
    private runPod: PodRun | null,
    private o: KubeletOptions,
    /** The Job controller's side of a pod's end: counting it, deciding the Job. */
    private podEnded: (pod: KObject, ok: boolean) => void,
  ) {
    // A pod gone from the API (garbage-collected, deadline, Background delete) has its containers stopped.
    store.onChange((e) => {
      if (e.resource === 'pods' && e.type === 'DELETED') this.runs.get(e.object.metadata.name)?.abort('terminate')
    })
  }

  /** A pod the Job controller created: run through runPod when there is one, else left for the test to script. */
  created(pod: KObject): void {
    if (this.runPod) void this.autoRun(pod)
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
    if (this.o.images && !this.o.images.includes(container.image)) return this.pullFailed(pod, container.image)
    let env: Record<string, string>
    let argv: string[]
    for (let warned = false; ; warned = true) {
      try {
        const vars = containerVariables(this.store, pod, container)
        argv = containerArgv(container, vars)
        // The runtime puts the image's variables underneath, and the pod's hostname.
        env = { ...this.o.imageEnv, HOSTNAME: pod.metadata.name, ...vars }
        break
      } catch (err) {
        if (!(err instanceof ContainerConfigError)) throw err
        // The kubelet keeps the pod Pending and retries: the Secret may yet be created.
        if (!warned) this.configError(pod, container.name, err.message)
        await new Promise((r) => this.timers.later(this.o.configRetryMs ?? 1000, () => r(undefined)))
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

  // --- what tests drive ---------------------------------------------------------------------------------------

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
    this.podEnded(pod, exitCode === 0)
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

  close(): void {
    this.closed = true
    this.timers.clear()
    for (const run of this.runs.values()) run.abort('kill')
    this.releaseScheduling()
  }
}
