/**
 * The Kubernetes executor as `forge scheduler` builds it from FORGE_K8S_* (runtime/config.ts): the cluster from
 * KUBECONFIG, else the pod's service account, else ~/.kube/config (client-node's loadFromDefault).
 */
import { KubeConfig } from '@kubernetes/client-node'
import type { ForgeConfig } from '../../config.ts'
import { ConfigError } from '../../errors.ts'
import { appendExecutorNote } from '../../store/attempt-log.ts'
import type { Store } from '../../store/connect.ts'
import { KubernetesExecutor } from './kubernetes-executor.ts'

export function kubernetesExecutorFromConfig(config: ForgeConfig, store: Store): KubernetesExecutor {
  const k = config.kubernetes
  if (!k.image) throw new ConfigError("FORGE_K8S_IMAGE is unset: the Kubernetes executor needs the worker image each attempt's Job runs")
  if (store.kind !== 'postgres')
    throw new ConfigError(
      'the Kubernetes executor needs FORGE_DATABASE_URL (a Postgres its pods can reach); the embedded store lives in this process only',
    )
  const kc = new KubeConfig()
  if (k.kubeconfig) kc.loadFromFile(k.kubeconfig)
  else kc.loadFromDefault()
  return new KubernetesExecutor({
    kc,
    defaults: {
      namespace: k.namespace,
      image: k.image,
      runnerCommand: ['forge'],
      databaseSecret: k.databaseSecret,
      serviceAccountName: k.serviceAccount ?? undefined,
      ttlSecondsAfterFinished: Math.round(k.ttlAfterFinishedMs / 1000),
    },
    maxJobs: k.maxJobs,
    pendingTimeoutMs: k.pendingTimeoutMs,
    appendLog: (attemptId, text) => appendExecutorNote(store.db, attemptId, text),
  })
}
