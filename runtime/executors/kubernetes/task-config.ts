/**
 * A task's Kubernetes settings (`executorConfig` of a task or DAG default with `executor: 'kubernetes'`). Checked
 * with zod when the DAG is processed, so a typo is an import error naming the field, not a failed pod at 2 a.m.
 * Kubernetes objects inside (tolerations, affinity, volumes, the pod override) are passed through as written: the
 * API server validates them and its 422 names the field (docs/kubernetes.md §2).
 */
import { z } from 'zod'
import { DagDefinitionError } from '../../errors.ts'

const quantity = z.union([
  z.string().regex(/^[0-9.]+[a-zA-Z]*$/, 'must be a Kubernetes quantity such as "500m", "4Gi" or "1"'),
  z.number().nonnegative(),
])
const resourceList = z.record(z.string(), quantity)
const k8sObject = z.record(z.string(), z.unknown())

export const carlaSidecarsSchema = z.object({
  /** The CARLA server image; 0.9.15 is the protocol version the client speaks (docs/carla-protocol.md). */
  image: z.string().default('carlasim/carla:0.9.15'),
  rpcPort: z.number().int().min(1).max(65_533).default(2000),
  /** An image with python3 and the carla 0.9.15 wheel that runs the Traffic Manager host script. */
  trafficManagerImage: z.string().default('python:3.8-slim'),
  trafficManagerPort: z.number().int().min(1).max(65_535).default(8000),
  /** The ConfigMap holding tm_sidecar.py (infra/k8s/carla). */
  trafficManagerScriptConfigMap: z.string().default('carla-tm-sidecar'),
  /** How long CARLA may take to open its port: its start on a cold GPU node takes tens of seconds. */
  startupSeconds: z.number().int().min(10).max(3600).default(300),
  resources: z.object({ requests: resourceList.optional(), limits: resourceList.optional() }).default({ limits: { 'nvidia.com/gpu': 1 } }),
})

export const kubernetesTaskConfigSchema = z
  .object({
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label')
      .max(63)
      .optional(),
    /** The worker image: adas-forge with the DAGs folder; defaults to the executor's image. */
    image: z.string().min(1).optional(),
    /** Replaces `forge task run --attempt ID` only for images whose entry point differs; `{attempt}` is substituted. */
    command: z.array(z.string()).min(1).optional(),
    resources: z.object({ requests: resourceList.optional(), limits: resourceList.optional() }).optional(),
    /** Shorthand for `resources.limits["nvidia.com/gpu"]`. */
    gpus: z.number().int().min(0).max(16).optional(),
    nodeSelector: z.record(z.string(), z.string()).optional(),
    tolerations: z.array(k8sObject).optional(),
    affinity: k8sObject.optional(),
    serviceAccountName: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    envFromSecrets: z.array(z.string()).optional(),
    envFromConfigMaps: z.array(z.string()).optional(),
    volumes: z.array(k8sObject).optional(),
    volumeMounts: z.array(k8sObject).optional(),
    /** Kueue's LocalQueue: the Job is created suspended and admitted by Kueue. */
    queueName: z.string().optional(),
    priorityClassName: z.string().optional(),
    /** How long the pod may stay unschedulable before the attempt fails (paused while Kueue holds the Job). */
    pendingTimeout: z.union([z.string(), z.number()]).optional(),
    /** Deep-merged into the pod template last, like Airflow's pod_override. */
    podOverride: k8sObject.optional(),
    /** Runs the CARLA server and its Traffic Manager as native sidecars beside the worker. */
    carla: carlaSidecarsSchema.optional(),
  })
  .strict()

export type KubernetesTaskConfig = z.output<typeof kubernetesTaskConfigSchema>

/** Where the executor's own settings come from (config.ts reads them; see KubernetesExecutorOptions). */
export interface KubernetesDefaults {
  namespace: string
  image: string
  /** The runner's command line before `--attempt ID`. */
  runnerCommand: string[]
  /** A Secret with FORGE_DATABASE_URL for the runner: the scheduler's own credentials never travel in a Job spec. */
  databaseSecret: string
  serviceAccountName?: string
  /** Kept after the attempt's log is safe, so `kubectl` can still show a finished Job for a while. */
  ttlSecondsAfterFinished: number
}

/**
 * What is wrong with a task's settings, as `executorConfig.FIELD MESSAGE (got VALUE)`, or null when nothing is.
 * The one check of these settings: the DAG processor runs it at import (executors/executor-config.ts), the
 * executor again at launch for versions serialized before that.
 */
export function kubernetesConfigProblem(raw: unknown): string | null {
  const parsed = kubernetesTaskConfigSchema.safeParse(raw ?? {})
  if (parsed.success) return null
  const issue = parsed.error.issues[0]!
  const field = ['executorConfig', ...issue.path.map(String)].join('.')
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(kubernetesTaskConfigSchema.shape).join(', ')
    return `${field} has an unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (known: ${known})`
  }
  return `${field} ${issue.message} (got ${shown(valueAt(raw, issue.path))})`
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined), raw)
}

function shown(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** Validates a task's settings; the message names the task and the field. */
export function parseTaskConfig(taskId: string, raw: unknown): KubernetesTaskConfig {
  const problem = kubernetesConfigProblem(raw)
  if (problem) throw new DagDefinitionError(`task "${taskId}": ${problem}`, { taskIds: [taskId] })
  return kubernetesTaskConfigSchema.parse(raw ?? {})
}

/** Quantities as the API's ResourceList wants them: strings. */
export function resourceStrings(list: Record<string, string | number> | undefined): Record<string, string> | undefined {
  return list ? Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v)])) : undefined
}
