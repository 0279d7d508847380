/**
 * The one place that turns an attempt into a batch/v1 Job (docs/kubernetes.md §2). One pod, never restarted and
 * never replaced by the Job controller (`restartPolicy: Never`, `backoffLimit: 0`): a retry is adas-forge's
 * decision, made with the failure's class, and is a new Job with a new name.
 */
import type { V1Container, V1Job, V1PodSpec } from '@kubernetes/client-node'
import { attemptAnnotations, attemptLabels, executorIdOf, jobName, type AttemptIdentity } from './job-identity.ts'
import { resourceStrings as stringify, type KubernetesDefaults, type KubernetesTaskConfig } from './task-config.ts'
import { carlaSidecars } from './carla-sidecars.ts'
import { deepMerge } from './deep-merge.ts'

export const WORKER_CONTAINER = 'worker'
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name'

export interface JobRequest {
  attempt: AttemptIdentity
  /** The task's timeout: becomes the Job's activeDeadlineSeconds, measured by Kubernetes from the pod's start. */
  timeoutMs: number | null
  config: KubernetesTaskConfig
  defaults: KubernetesDefaults
}

/** The runner records its executor id itself when it begins: the scheduler's note of it may come after. */
function workerCommand(req: JobRequest, executorId: string): string[] {
  const id = String(req.attempt.attemptId)
  if (req.config.command) return req.config.command.map((part) => part.replaceAll('{attempt}', id))
  return [...req.defaults.runnerCommand, 'task', 'run', '--attempt', id, '--executor-id', executorId]
}

function workerContainer(req: JobRequest, executorId: string): V1Container {
  const { config, defaults } = req
  const limits: Record<string, string> = { ...stringify(config.resources?.limits) }
  if (config.gpus !== undefined) limits['nvidia.com/gpu'] = String(config.gpus)
  const envFrom = [
    { secretRef: { name: defaults.databaseSecret } },
    ...(config.envFromSecrets ?? []).map((name) => ({ secretRef: { name } })),
    ...(config.envFromConfigMaps ?? []).map((name) => ({ configMapRef: { name } })),
  ]
  const env = Object.entries(config.env ?? {}).map(([name, value]) => ({ name, value }))
  if (config.carla)
    env.push({ name: 'FORGE_TASK_CARLA_HOST', value: '127.0.0.1' }, { name: 'FORGE_TASK_CARLA_PORT', value: String(config.carla.rpcPort) })
  return {
    name: WORKER_CONTAINER,
    image: config.image ?? defaults.image,
    command: workerCommand(req, executorId),
    env: env.length ? env : undefined,
    envFrom,
    resources:
      config.resources || config.gpus !== undefined
        ? { requests: stringify(config.resources?.requests), limits: Object.keys(limits).length ? limits : undefined }
        : undefined,
    volumeMounts: config.volumeMounts as unknown as V1Container['volumeMounts'],
  }
}

export function buildJob(req: JobRequest): V1Job {
  const { attempt, config, defaults } = req
  const name = jobName(attempt)
  const namespace = config.namespace ?? defaults.namespace
  const labels = attemptLabels(attempt)
  const annotations = attemptAnnotations(attempt)
  let podSpec: V1PodSpec = {
    restartPolicy: 'Never',
    containers: [workerContainer(req, executorIdOf(namespace, name))],
    initContainers: config.carla ? carlaSidecars(config.carla) : undefined,
    serviceAccountName: config.serviceAccountName ?? defaults.serviceAccountName,
    nodeSelector: config.nodeSelector,
    tolerations: config.tolerations as unknown as V1PodSpec['tolerations'],
    affinity: config.affinity as V1PodSpec['affinity'],
    priorityClassName: config.priorityClassName,
    volumes: (config.volumes ?? []).concat(
      config.carla ? [{ name: 'carla-tm-script', configMap: { name: config.carla.trafficManagerScriptConfigMap } }] : [],
    ) as unknown as V1PodSpec['volumes'],
  }
  let podMeta: { labels: Record<string, string>; annotations: Record<string, string> } = { labels: { ...labels }, annotations: { ...annotations } }
  if (config.podOverride) {
    const merged = deepMerge({ metadata: podMeta, spec: podSpec }, config.podOverride) as { metadata: typeof podMeta; spec: V1PodSpec }
    podMeta = merged.metadata
    podSpec = merged.spec
    // The override may add to the pod but not take it out of adas-forge's hands.
    podSpec.restartPolicy = 'Never'
    podMeta.labels = { ...podMeta.labels, ...labels }
  }
  if (podSpec.volumes?.length === 0) delete podSpec.volumes
  const jobLabels = { ...labels, ...(config.queueName ? { [KUEUE_QUEUE_LABEL]: config.queueName } : {}) }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace, labels: jobLabels, annotations },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: req.timeoutMs != null ? Math.max(1, Math.ceil(req.timeoutMs / 1000)) : undefined,
      // Kueue admits a Job by unsuspending it; created running, Kueue would have nothing to hold.
      suspend: config.queueName ? true : undefined,
      template: { metadata: podMeta, spec: podSpec },
    },
  }
}
