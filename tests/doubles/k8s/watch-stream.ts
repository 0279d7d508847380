/**
 * One watch connection (docs/kubernetes.md §5): 200 and headers at once, one JSON event per line, history
 * replayed after `resourceVersion=N`, synthetic ADDED events for an unset or "0" RV, 410 Expired as an ERROR event
 * in a 200 stream for a compacted RV, selector transitions as ADDED/DELETED, BOOKMARKs only when asked for, and
 * the stream closed without an event after `timeoutSeconds`.
 */
import type { ServerResponse } from 'node:http'
import type { HistoryEvent, KObject, ObjectStore } from './object-store.ts'
import type { Matcher } from './selectors.ts'
import { status } from './status.ts'

export interface WatchRequest {
  resource: string
  kind: string
  apiVersion: string
  namespace: string
  resourceVersion: string | undefined
  matches: Matcher
  bookmarks: boolean
  timeoutSeconds: number | undefined
}

export function serveWatch(
  store: ObjectStore,
  req: WatchRequest,
  res: ServerResponse,
  openStreams: Set<ServerResponse>,
  bookmarkEveryMs: number,
  latencyMs = 0,
): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
  res.flushHeaders()
  openStreams.add(res)
  const write = (line: string) => !res.writableEnded && res.write(line)
  // Injected latency keeps the order: timers of equal delay fire in the order they were set.
  const send = (type: string, object: unknown) => {
    const line = JSON.stringify({ type, object }) + '\n'
    if (latencyMs > 0) setTimeout(() => write(line), latencyMs)
    else write(line)
  }
  const inScope = (o: KObject) => !req.namespace || o.metadata.namespace === req.namespace
  const deliver = (e: HistoryEvent) => {
    if (e.resource !== req.resource || !inScope(e.object)) return
    const now = req.matches(e.object)
    const before = e.previous ? req.matches(e.previous) : false
    if (e.type === 'DELETED') {
      if (now) send('DELETED', e.object)
    } else if (e.type === 'ADDED') {
      if (now) send('ADDED', e.object)
    } else if (now && before) send('MODIFIED', e.object)
    else if (now) send('ADDED', e.object)
    else if (before) send('DELETED', { ...e.previous, metadata: { ...e.previous!.metadata, resourceVersion: e.object.metadata.resourceVersion } })
  }
  const rv = req.resourceVersion
  if (rv === undefined || rv === '' || rv === '0') {
    for (const o of store.list(req.resource, req.namespace)) if (req.matches(o)) send('ADDED', o)
  } else {
    const from = Number(rv)
    if (!Number.isFinite(from) || from < store.compactedThrough) {
      send('ERROR', status.expired(`too old resource version: ${rv} (${store.compactedThrough + 1})`))
      openStreams.delete(res)
      res.end()
      return
    }
    for (const e of store.history) if (e.rv > from) deliver(e)
  }
  const unsubscribe = store.onChange(deliver)
  const bookmarkTimer = req.bookmarks
    ? setInterval(
        () => send('BOOKMARK', { kind: req.kind, apiVersion: req.apiVersion, metadata: { resourceVersion: String(store.currentRv()) } }),
        bookmarkEveryMs,
      )
    : undefined
  const end = () => {
    unsubscribe()
    clearInterval(bookmarkTimer)
    clearTimeout(timeout)
    openStreams.delete(res)
    if (!res.writableEnded) res.end()
  }
  const timeout = req.timeoutSeconds ? setTimeout(end, req.timeoutSeconds * 1000) : undefined
  res.on('close', end)
}
