/**
 * A container's environment and command line as the kubelet builds them (kuberuntime's makeEnvironmentVariables):
 * `envFrom` sources in order (a prefix each, names that are not variable names
 * skipped), then `env` in order, where a value expands `$(NAME)` references and `valueFrom` reads a Secret key, a
 * ConfigMap key or a pod field. A missing Secret or ConfigMap, or key, that is not optional is the error the pod
 * shows as CreateContainerConfigError, with the kubelet's message.
 */
import type { KObject, ObjectStore } from './object-store.ts'

export interface ContainerSpec {
  name: string
  command?: string[]
  args?: string[]
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, Record<string, unknown>> }>
  envFrom?: Array<{ prefix?: string; secretRef?: { name: string; optional?: boolean }; configMapRef?: { name: string; optional?: boolean } }>
}

export class ContainerConfigError extends Error {}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/

/** `$(NAME)` becomes the variable's value when it is defined, `$$` a single `$`; anything else is left as written. */
export function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$'
    return name !== undefined && name in vars ? vars[name]! : whole
  })
}

function decoded(secret: KObject): Record<string, string> {
  const data = (secret.data ?? {}) as Record<string, string>
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}

function source(store: ObjectStore, ns: string, kind: 'secret' | 'configmap', name: string): Record<string, string> | null {
  const obj = store.get(kind === 'secret' ? 'secrets' : 'configmaps', ns, name)
  if (!obj) return null
  return kind === 'secret' ? decoded(obj) : ((obj.data ?? {}) as Record<string, string>)
}

function podField(pod: KObject, path: string): string {
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': '127.0.0.1',
    'status.hostIP': '127.0.0.1',
  }
  const label = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/)
  if (label) return (pod.metadata[label[1] as 'labels' | 'annotations'] ?? {})[label[2]!] ?? ''
  if (!(path in fields)) throw new ContainerConfigError(`unsupported fieldPath: ${path}`)
  return fields[path] ?? ''
}

/**
 * The variables the kubelet gives the container, or ContainerConfigError with its message. The image's own
 * variables are not among them: the container runtime adds those underneath, so `$(NAME)` never sees them.
 */
export function containerVariables(store: ObjectStore, pod: KObject, c: ContainerSpec): Record<string, string> {
  const ns = pod.metadata.namespace!
  const env: Record<string, string> = {}
  for (const from of c.envFrom ?? []) {
    const kind = from.secretRef ? 'secret' : 'configmap'
    const ref = from.secretRef ?? from.configMapRef
    if (!ref) continue
    const values = source(store, ns, kind, ref.name)
    if (!values) {
      if (ref.optional) continue
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`)
    }
    for (const [k, v] of Object.entries(values)) {
      const name = (from.prefix ?? '') + k
      if (ENV_NAME.test(name)) env[name] = v
    }
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined && e.value !== '') {
      env[e.name] = expand(e.value, env)
      continue
    }
    const from = e.valueFrom
    if (!from) {
      env[e.name] = ''
      continue
    }
    if (from.fieldRef) {
      env[e.name] = podField(pod, String(from.fieldRef.fieldPath))
      continue
    }
    const keyRef = from.secretKeyRef ?? from.configMapKeyRef
    if (!keyRef) throw new ContainerConfigError(`unsupported valueFrom for ${e.name}`)
    const kind = from.secretKeyRef ? 'secret' : 'configmap'
    const name = String(keyRef.name)
    const key = String(keyRef.key)
    const values = source(store, ns, kind, name)
    if (!values) {
      if (keyRef.optional) continue
      throw new ContainerConfigError(`${kind} "${name}" not found`)
    }
    if (!(key in values)) {
      if (keyRef.optional) continue
      throw new ContainerConfigError(`couldn't find key ${key} in ${kind === 'secret' ? 'Secret' : 'ConfigMap'} ${ns}/${name}`)
    }
    env[e.name] = values[key]!
  }
  return env
}

/** command then args, each `$(NAME)` expanded from the kubelet's variables; no command means the image's. */
export function containerArgv(c: ContainerSpec, env: Record<string, string>, imageCommand: string[] = []): string[] {
  const argv = [...(c.command ?? imageCommand), ...(c.args ?? [])].map((part) => expand(part, env))
  if (argv.length === 0) throw new ContainerConfigError(`container "${c.name}" has no command, and the image gives none`)
  return argv
}
