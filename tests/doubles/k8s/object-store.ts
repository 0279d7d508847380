/**
 * The double's storage: objects by resource, one resourceVersion counter shared by every kind (rendered as a
 * decimal string), and a bounded history of watch events that a test can compact to force 410 Gone
 * (docs/kubernetes.md §5, §10).
 */
import { randomUUID } from 'node:crypto'

export type KObject = {
  apiVersion?: string
  kind?: string
  metadata: {
    name: string
    namespace?: string
    uid?: string
    resourceVersion?: string
    generation?: number
    creationTimestamp?: string
    deletionTimestamp?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    finalizers?: string[]
    ownerReferences?: Array<Record<string, unknown>>
    generateName?: string
  }
  spec?: Record<string, any>
  status?: Record<string, any>
  [k: string]: unknown
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED'
export interface HistoryEvent {
  rv: number
  resource: string
  type: WatchType
  object: KObject
  /** The object before the change, for selector transitions (moving out of a selector is a DELETED). */
  previous: KObject | null
}

export class ObjectStore {
  private rv = 1000
  private objects = new Map<string, Map<string, KObject>>()
  history: HistoryEvent[] = []
  /** Events at or before this RV are gone: a watch from older gets 410 Expired. */
  compactedThrough = 0
  private listeners = new Set<(e: HistoryEvent) => void>()

  currentRv(): number {
    return this.rv
  }

  private bucket(resource: string): Map<string, KObject> {
    let b = this.objects.get(resource)
    if (!b) this.objects.set(resource, (b = new Map()))
    return b
  }

  get(resource: string, ns: string, name: string): KObject | undefined {
    return this.bucket(resource).get(`${ns}/${name}`)
  }

  list(resource: string, ns?: string): KObject[] {
    return [...this.bucket(resource).values()]
      .filter((o) => !ns || o.metadata.namespace === ns)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
  }

  private record(resource: string, type: WatchType, object: KObject, previous: KObject | null): void {
    const event = { rv: this.rv, resource, type, object: structuredClone(object), previous }
    this.history.push(event)
    if (this.history.length > 5000) this.history.shift()
    for (const l of this.listeners) l(event)
  }

  create(resource: string, obj: KObject): KObject {
    this.rv++
    obj.metadata.uid ??= randomUUID()
    obj.metadata.resourceVersion = String(this.rv)
    obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    obj.metadata.generation ??= 1
    this.bucket(resource).set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj)
    this.record(resource, 'ADDED', obj, null)
    return obj
  }

  update(resource: string, obj: KObject, mutate: (o: KObject) => void): KObject {
    const previous = structuredClone(obj)
    mutate(obj)
    this.rv++
    obj.metadata.resourceVersion = String(this.rv)
    this.record(resource, 'MODIFIED', obj, previous)
    return obj
  }

  remove(resource: string, obj: KObject): void {
    this.rv++
    this.bucket(resource).delete(`${obj.metadata.namespace}/${obj.metadata.name}`)
    // A DELETED event carries the last state, stamped with the deletion's revision.
    obj.metadata.resourceVersion = String(this.rv)
    this.record(resource, 'DELETED', obj, obj)
  }

  /** Test hook: forget history up to now, so a watch from an older RV gets 410. */
  compact(): void {
    this.compactedThrough = this.rv
    this.history = []
  }

  onChange(listener: (e: HistoryEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
