/**
 * What a pod log request gets (docs/kubernetes.md §8): the apiserver checks the container name (400 when it must
 * be given or is not the pod's), a pod not yet on a node answers 204, the kubelet answers 400 for a container that
 * has not started; otherwise the log, with `tailLines`, `limitBytes` and `timestamps`, whole or followed.
 */
import type { KObject } from './object-store.ts'
import type { LogReadOptions } from './pod-logs.ts'
import { status, type StatusBody } from './status.ts'

export type PodLogAnswer = { error: StatusBody } | { noContent: true } | { container: string; options: LogReadOptions; follow: boolean }

/** The kubelet's words for waiting reasons it explains; any other is named as it is. */
const WAITING: Record<string, string> = { ErrImagePull: "image can't be pulled", ImagePullBackOff: 'trying and failing to pull image' }

export function podLogRequest(pod: KObject, q: URLSearchParams): PodLogAnswer {
  const name = pod.metadata.name
  const containers = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name) as string[]
  const inits = (pod.spec?.initContainers ?? []).map((c: { name: string }) => c.name) as string[]
  let container = q.get('container') ?? ''
  if (!container) {
    if (containers.length !== 1) {
      const initPart = inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''
      return { error: status.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${initPart}`) }
    }
    container = containers[0]!
  }
  if (!containers.includes(container) && !inits.includes(container))
    return { error: status.badRequest(`container ${container} is not valid for pod ${name}`) }
  if (!pod.spec?.nodeName) return { noContent: true }
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])] as Array<{
    name: string
    state?: { waiting?: { reason?: string } }
  }>
  const state = statuses.find((s) => s.name === container)?.state
  if (!state || state.waiting) {
    const reason = state?.waiting?.reason ?? 'ContainerCreating'
    return { error: status.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${WAITING[reason] ?? reason}`) }
  }
  const num = (key: string) => (q.get(key) === null ? undefined : Number(q.get(key)))
  return {
    container,
    options: { tailLines: num('tailLines'), limitBytes: num('limitBytes'), timestamps: q.get('timestamps') === 'true' },
    follow: q.get('follow') === 'true',
  }
}
