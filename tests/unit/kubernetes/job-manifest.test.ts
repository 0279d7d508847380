import { describe, expect, it } from 'vitest'
import { jobName } from '../../../runtime/executors/kubernetes/job-identity.ts'
import { buildJob } from '../../../runtime/executors/kubernetes/job-manifest.ts'
import { parseTaskConfig } from '../../../runtime/executors/kubernetes/task-config.ts'

const attempt = {
  attemptId: 7,
  dagId: 'carla_nightly_dataset',
  runId: 'scheduled__2026-12-01T01:00:00+00:00',
  taskId: 'simulate',
  mapIndex: 0,
  tryNumber: 2,
}
/** The default worker command: the runner, this attempt, and the Job it runs in as its executor id. */
const runnerCommand = ['forge', 'task', 'run', '--attempt', '7', '--executor-id', `k8s:forge/${jobName(attempt)}`]
const defaults = {
  namespace: 'forge',
  image: 'registry.example/adas-forge:1',
  runnerCommand: ['forge'],
  databaseSecret: 'forge-db',
  ttlSecondsAfterFinished: 3600,
}

describe('buildJob', () => {
  it('makes one never-restarted pod running the task runner for this attempt', () => {
    const job = buildJob({ attempt, timeoutMs: 3_600_500, config: parseTaskConfig('simulate', {}), defaults })
    expect(job.spec!.backoffLimit).toBe(0)
    expect(job.spec!.activeDeadlineSeconds).toBe(3601)
    expect(job.spec!.ttlSecondsAfterFinished).toBeUndefined()
    const pod = job.spec!.template.spec!
    expect(pod.restartPolicy).toBe('Never')
    expect(pod.containers[0]!.command).toEqual(runnerCommand)
    expect(pod.containers[0]!.envFrom).toEqual([{ secretRef: { name: 'forge-db' } }])
    expect(job.metadata!.namespace).toBe('forge')
    expect(job.metadata!.labels!['adas-forge.io/attempt-id']).toBe('7')
    expect(job.spec!.template.metadata!.labels!['adas-forge.io/try']).toBe('2')
    expect(job.metadata!.annotations!['adas-forge.io/run-id']).toBe(attempt.runId)
  })

  it('carries GPUs, placement, secrets and a Kueue queue (created suspended for Kueue to admit)', () => {
    const config = parseTaskConfig('simulate', {
      gpus: 1,
      resources: { requests: { cpu: '4', memory: '12Gi' }, limits: { memory: '16Gi' } },
      nodeSelector: { 'nvidia.com/gpu.product': 'A10' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      envFromSecrets: ['aws'],
      envFromConfigMaps: ['forge-settings'],
      queueName: 'gpu-queue',
      serviceAccountName: 'forge-runner',
    })
    const job = buildJob({ attempt, timeoutMs: null, config, defaults })
    const pod = job.spec!.template.spec!
    expect(pod.containers[0]!.resources).toEqual({ requests: { cpu: '4', memory: '12Gi' }, limits: { memory: '16Gi', 'nvidia.com/gpu': '1' } })
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'A10' })
    expect(pod.tolerations).toHaveLength(1)
    expect(pod.serviceAccountName).toBe('forge-runner')
    expect(pod.containers[0]!.envFrom).toEqual([
      { secretRef: { name: 'forge-db' } },
      { secretRef: { name: 'aws' } },
      { configMapRef: { name: 'forge-settings' } },
    ])
    expect(job.metadata!.labels!['kueue.x-k8s.io/queue-name']).toBe('gpu-queue')
    expect(job.spec!.suspend).toBe(true)
    expect(job.spec!.activeDeadlineSeconds).toBeUndefined()
  })

  it('runs CARLA and its Traffic Manager as native sidecars with startup probes', () => {
    const job = buildJob({ attempt, timeoutMs: null, config: parseTaskConfig('simulate', { carla: {} }), defaults })
    const pod = job.spec!.template.spec!
    const [server, tm] = pod.initContainers!
    expect(server!.image).toBe('carlasim/carla:0.9.15')
    expect(server!.restartPolicy).toBe('Always')
    expect(server!.command).toContain('-RenderOffScreen')
    expect(server!.startupProbe!.tcpSocket!.port).toBe(2000)
    expect(server!.resources!.limits).toEqual({ 'nvidia.com/gpu': '1' })
    expect(tm!.restartPolicy).toBe('Always')
    expect(tm!.startupProbe!.tcpSocket!.port).toBe(8000)
    expect(pod.volumes).toEqual([{ name: 'carla-tm-script', configMap: { name: 'carla-tm-sidecar' } }])
    expect(pod.containers[0]!.env).toContainEqual({ name: 'FORGE_TASK_CARLA_PORT', value: '2000' })
  })

  it('merges the pod override last but keeps restartPolicy and adas-forge labels', () => {
    const config = parseTaskConfig('simulate', {
      podOverride: {
        metadata: { labels: { team: 'perception', 'adas-forge.io/attempt-id': '999' } },
        spec: {
          restartPolicy: 'OnFailure',
          hostIPC: true,
          containers: [
            { name: 'worker', imagePullPolicy: 'Always' },
            { name: 'extra', image: 'busybox' },
          ],
        },
      },
    })
    const job = buildJob({ attempt, timeoutMs: null, config, defaults })
    const pod = job.spec!.template
    expect(pod.spec!.restartPolicy).toBe('Never')
    expect(pod.spec!.hostIPC).toBe(true)
    expect(pod.spec!.containers.map((c) => c.name)).toEqual(['worker', 'extra'])
    expect(pod.spec!.containers[0]!.imagePullPolicy).toBe('Always')
    expect(pod.spec!.containers[0]!.command).toEqual(runnerCommand)
    expect(pod.metadata!.labels!.team).toBe('perception')
    expect(pod.metadata!.labels!['adas-forge.io/attempt-id']).toBe('7')
  })

  it('refuses unknown or malformed settings naming the task and the field', () => {
    expect(() => parseTaskConfig('simulate', { gpu: 1 })).toThrow(/task "simulate": executorConfig.*gpu/)
    expect(() => parseTaskConfig('simulate', { resources: { limits: { memory: '16 GB' } } })).toThrow(/executorConfig\.resources\.limits\.memory/)
    expect(() => parseTaskConfig('simulate', { namespace: 'Bad_NS' })).toThrow(/executorConfig\.namespace must be a DNS-1123 label/)
  })
})
