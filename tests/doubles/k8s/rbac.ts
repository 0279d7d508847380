/**
 * The double's authorizer: a Role's rules (apiGroups × resources × verbs, as infra/k8s renders them) for the one
 * user a test's token stands for, and 403 Forbidden with the API server's Status for anything else
 * (docs/kubernetes.md §9). The verb is the request's as the API server names it (requestinfo.go): GET of a
 * collection is `list`, or `watch` with `?watch=true`; a subresource is matched as `resource/subresource`.
 */
import type { StatusBody } from './status.ts'

export interface RbacRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
}

export interface RbacOptions {
  /** The user the token authenticates as, e.g. `system:serviceaccount:forge:forge-scheduler`. */
  user: string
  rules: RbacRule[]
}

export interface ResourceRequest {
  method: string
  group: string
  namespace: string
  resource: string
  name?: string
  subresource?: string
  watch: boolean
}

const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }

export function verbOf(r: ResourceRequest): string {
  if (r.method === 'GET') return r.name ? 'get' : r.watch ? 'watch' : 'list'
  return VERBS[r.method] ?? r.method.toLowerCase()
}

function allows(rule: RbacRule, group: string, resource: string, verb: string): boolean {
  const has = (list: string[], v: string) => list.includes('*') || list.includes(v)
  return has(rule.apiGroups, group) && has(rule.resources, resource) && has(rule.verbs, verb)
}

/** null when the rules allow the request, else the 403 the API server answers (responsewriters.ForbiddenStatusError). */
export function forbidden(o: RbacOptions, r: ResourceRequest): StatusBody | null {
  const verb = verbOf(r)
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource
  if (o.rules.some((rule) => allows(rule, r.group, resource, verb))) return null
  const what = r.group ? `${r.resource}.${r.group}` : r.resource
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${what}${r.name ? ` "${r.name}"` : ''} is forbidden: User "${o.user}" cannot ${verb} resource "${resource}" in API group "${r.group}" in the namespace "${r.namespace}"`,
    reason: 'Forbidden',
    details: { ...(r.name ? { name: r.name } : {}), ...(r.group ? { group: r.group } : {}), kind: r.resource },
    code: 403,
  }
}
