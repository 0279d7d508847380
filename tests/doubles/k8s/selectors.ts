/** Label and field selectors as the API server reads them (docs/kubernetes.md §10). */
import type { KObject as Obj } from './object-store.ts'

export type Matcher = (obj: Obj) => boolean

export class BadSelector extends Error {}

export function labelMatcher(selector: string | undefined): Matcher {
  if (!selector) return () => true
  // Split on commas outside parentheses: `a in (x,y),b`.
  const parts = selector.match(/(?:[^,(]|\([^)]*\))+/g) ?? []
  const tests = parts.map((raw): Matcher => {
    const p = raw.trim()
    let m: RegExpMatchArray | null
    if ((m = p.match(/^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = new Set(m[3]!.split(',').map((v) => v.trim()))
      const key = m[1]!
      return m[2] === 'in' ? (o) => values.has(o.metadata?.labels?.[key] as string) : (o) => !values.has(o.metadata?.labels?.[key] as string)
    }
    if ((m = p.match(/^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/))) {
      const [, key, op, value] = m
      return op === '!=' ? (o) => o.metadata?.labels?.[key!] !== value : (o) => o.metadata?.labels?.[key!] === value
    }
    if ((m = p.match(/^!([^\s!=]+)$/))) return (o) => !(m![1]! in (o.metadata?.labels ?? {}))
    if ((m = p.match(/^([^\s!=]+)$/))) return (o) => m![1]! in (o.metadata?.labels ?? {})
    throw new BadSelector(`unable to parse requirement: ${p}`)
  })
  return (o) => tests.every((t) => t(o))
}

const FIELDS: Record<string, string[]> = {
  jobs: ['status.successful'],
  pods: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
}

function read(obj: unknown, path: string): string {
  let v: unknown = obj
  for (const k of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[k]
  return v === undefined || v === null ? '' : String(v)
}

export function fieldMatcher(resource: string, selector: string | undefined): Matcher {
  if (!selector) return () => true
  const tests = selector.split(',').map((raw): Matcher => {
    const m = raw.trim().match(/^([^!=]+)(==|=|!=)(.*)$/)
    if (!m) throw new BadSelector(`invalid field selector: ${raw}`)
    const [, field, op, value] = m
    if (!['metadata.name', 'metadata.namespace', ...(FIELDS[resource] ?? [])].includes(field!))
      throw new BadSelector(`field label not supported: ${field}`)
    return op === '!=' ? (o) => read(o, field!) !== value : (o) => read(o, field!) === value
  })
  return (o) => tests.every((t) => t(o))
}
