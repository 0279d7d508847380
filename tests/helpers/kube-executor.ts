/** A Kubernetes executor pointed at the API double, its events and the log lines it writes kept for assertions. */
import type { ExecutorEvent } from '../../runtime/executors/executor.ts'
import { KubernetesExecutor } from '../../runtime/executors/kubernetes/kubernetes-executor.ts'
import { kubeConfigFor } from './kube-client.ts'

export const KUBE_DEFAULTS = {
  namespace: 'forge',
  image: 'forge:test',
  runnerCommand: ['forge'],
  databaseSecret: 'forge-db',
  ttlSecondsAfterFinished: 600,
}

export function kubeExecutor(
  url: string,
  into: { events: ExecutorEvent[]; logs: Map<number, string> },
  o: { maxJobs?: number; pendingTimeoutMs?: number } = {},
): KubernetesExecutor {
  const ex = new KubernetesExecutor({
    kc: kubeConfigFor(url),
    defaults: KUBE_DEFAULTS,
    maxJobs: o.maxJobs ?? 4,
    pendingTimeoutMs: o.pendingTimeoutMs ?? 60_000,
    appendLog: async (id, text) => void into.logs.set(id, (into.logs.get(id) ?? '') + text),
  })
  ex.onEvent((e) => into.events.push(e))
  return ex
}
