/**
 * One LIST then WATCH of a resource in one namespace, kept alive (docs/kubernetes.md §5): the watch resumes from the
 * last resourceVersion seen (events and bookmarks advance it); both forms of 410 Gone (an HTTP 410, or an ERROR
 * event with code 410 in a 200 stream) clear it and re-list; other errors reconnect after a jittered, growing
 * backoff, since client-node 1.4 neither retries nor times a watch out itself; `timeoutSeconds` makes the server
 * end quiet streams, so a half-open connection cannot stall us for long; and a periodic re-list (resync) repairs
 * anything missed. A re-list reports objects gone since as deletions of the cached copy. Lists come in pages
 * (limit and continue).
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node'

export interface WatchedObject {
  metadata?: { name?: string; resourceVersion?: string }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface ListPage {
  limit: number
  _continue?: string
}

/** How often a list whose continue token expired (410) starts over before it gives up. */
const LIST_RESTARTS = 3

export interface NamespaceWatchOptions<T extends WatchedObject> {
  kc: KubeConfig
  /** The collection's path, e.g. /apis/batch/v1/namespaces/NS/jobs. */
  path: string
  labelSelector: string
  /** One page of the list: at most `limit` items, from `_continue` when given (its answer's `metadata._continue`). */
  list: (page: ListPage) => Promise<{ items: T[]; metadata?: { resourceVersion?: string; _continue?: string } }>
  /** Items per page of a list (default 500), so a namespace with many Jobs or events is never one huge answer. */
  pageSize?: number
  onEvent: (type: WatchEventType, obj: T) => void
  onError?: (err: unknown) => void
  resyncMs?: number
  watchTimeoutSeconds?: number
  backoff?: { minMs: number; maxMs: number }
}

export class NamespaceWatch<T extends WatchedObject> {
  private resourceVersion = ''
  private cache = new Map<string, T>()
  private abort: AbortController | null = null
  private stopped = false
  private failures = 0
  private watchStarted = 0
  private eventsThisWatch = 0
  private resyncTimer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private synced: Promise<void>
  private markSynced!: () => void
  private failSync!: (err: unknown) => void
  private everSynced = false
  /** Counts for tests and metrics: how often it listed and (re)connected. */
  readonly stats = { lists: 0, watches: 0, expired: 0 }

  constructor(private o: NamespaceWatchOptions<T>) {
    this.synced = new Promise((resolve, reject) => {
      this.markSynced = resolve
      this.failSync = reject
    })
  }

  /** Resolves after the first list; rejects if that list fails (it is retried meanwhile, until stop()). */
  start(): Promise<void> {
    void this.connect()
    this.resyncTimer = setInterval(() => void this.relist().catch((err) => this.o.onError?.(err)), this.o.resyncMs ?? 5 * 60_000)
    this.resyncTimer.unref()
    return this.synced
  }

  get(name: string): T | undefined {
    return this.cache.get(name)
  }

  values(): T[] {
    return [...this.cache.values()]
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.resyncTimer)
    clearTimeout(this.retryTimer)
    this.abort?.abort()
  }

  /**
   * The whole collection, page by page (docs/kubernetes.md §5): the pages of one list are one snapshot, at the first
   * page's resourceVersion. A continue token that expired (410) starts the list over, from a new snapshot.
   */
  private async listAll(): Promise<{ items: T[]; metadata: { resourceVersion?: string } }> {
    const limit = this.o.pageSize ?? 500
    for (let restart = 0; ; restart++) {
      const items: T[] = []
      let resourceVersion: string | undefined
      let token: string | undefined
      try {
        do {
          const page = await this.o.list(token ? { limit, _continue: token } : { limit })
          items.push(...page.items)
          resourceVersion ??= page.metadata?.resourceVersion
          token = page.metadata?._continue || undefined
        } while (token)
        return { items, metadata: { resourceVersion } }
      } catch (err) {
        const code = (err as { code?: number } | null)?.code
        if (!token || code !== 410 || restart >= LIST_RESTARTS) throw err
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.listAll()
    this.stats.lists++
    const seen = new Set<string>()
    for (const item of list.items) {
      const name = item.metadata?.name ?? ''
      seen.add(name)
      const known = this.cache.get(name)
      if (known?.metadata?.resourceVersion === item.metadata?.resourceVersion) continue
      this.cache.set(name, item)
      this.o.onEvent(known ? 'MODIFIED' : 'ADDED', item)
    }
    for (const [name, item] of this.cache) {
      if (seen.has(name)) continue
      this.cache.delete(name)
      this.o.onEvent('DELETED', item)
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? ''
    this.everSynced = true
    this.markSynced()
  }

  private async connect(): Promise<void> {
    if (this.stopped) return
    try {
      if (!this.resourceVersion) await this.relist()
      this.stats.watches++
      this.watchStarted = Date.now()
      this.eventsThisWatch = 0
      const params = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: this.o.labelSelector,
        timeoutSeconds: this.o.watchTimeoutSeconds ?? 300,
      }
      this.abort = await new Watch(this.o.kc).watch(
        this.o.path,
        params,
        (type, obj: T & { code?: number }) => this.onLine(type, obj),
        (err) => this.onDone(err),
      )
    } catch (err) {
      // A first list that fails (no access, a wrong server) is its caller's to report, not only to retry.
      if (!this.everSynced) this.failSync(err)
      this.onDone(err)
    }
  }

  private onLine(type: string, obj: T & { code?: number }): void {
    this.failures = 0
    this.eventsThisWatch++
    if (type === 'ERROR') {
      // The server follows an ERROR event by closing the stream; the re-list happens in onDone.
      if (obj.code === 410) {
        this.stats.expired++
        this.resourceVersion = ''
      } else this.o.onError?.(new Error(`watch ${this.o.path}: ${JSON.stringify(obj)}`))
      return
    }
    const rv = obj.metadata?.resourceVersion
    if (rv) this.resourceVersion = rv
    if (type === 'BOOKMARK') return
    const name = obj.metadata?.name ?? ''
    if (type === 'DELETED') this.cache.delete(name)
    else this.cache.set(name, obj)
    this.o.onEvent(type as WatchEventType, obj)
  }

  private onDone(err: unknown): void {
    this.abort = null
    if (this.stopped) return
    const code = (err as { statusCode?: number; code?: number } | null)?.statusCode ?? (err as { code?: number } | null)?.code
    if (code === 410) {
      this.stats.expired++
      this.resourceVersion = ''
    }
    // A stream the server keeps closing at once, with nothing in it, is retried with backoff like an error.
    const flapping = !err && this.eventsThisWatch === 0 && Date.now() - this.watchStarted < 500
    if ((!err && !flapping) || code === 410) {
      void this.connect()
      return
    }
    if (err) this.o.onError?.(err)
    this.failures++
    const { minMs, maxMs } = this.o.backoff ?? { minMs: 200, maxMs: 30_000 }
    const base = Math.min(maxMs, minMs * 2 ** Math.min(this.failures - 1, 16))
    this.retryTimer = setTimeout(() => void this.connect(), base / 2 + Math.random() * (base / 2))
  }
}
