/**
 * An HTTP proxy in front of a test S3 server that records every request and can fail chosen ones: an S3 error
 * answer (503 SlowDown, 500 InternalError…) or a connection reset, the faults a transfer must retry through.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ProxiedRequest {
  seq: number
  method: string
  /** Path without the query. */
  path: string
  query: URLSearchParams
  /** The upstream status, or the injected fault. */
  outcome?: number | 'reset' | 'upstream-error'
  /** The x-amz-content-sha256 header (the payload hash SigV4 signed) and the SHA-256 of the body that was sent. */
  signedPayload?: string
  bodySha256?: string
  range?: string
}

export type Fault = { status: number; code: string } | 'reset' | null | undefined

export interface FaultyProxy {
  port: number
  endpoint: string
  requests: ProxiedRequest[]
  /** Requests the proxy failed on purpose. */
  injected: number
  close(): Promise<void>
}

export interface ProxyHooks {
  fault?(req: ProxiedRequest): Fault
  /** After the upstream answered and the answer was passed on. */
  onResponse?(req: ProxiedRequest): void
}

export async function startFaultyProxy(upstream: () => number, hooks: ProxyHooks = {}): Promise<FaultyProxy> {
  const requests: ProxiedRequest[] = []
  const state = { injected: 0 }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const entry: ProxiedRequest = {
      seq: requests.length + 1,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      signedPayload: req.headers['x-amz-content-sha256'] as string | undefined,
      range: req.headers.range,
    }
    requests.push(entry)
    const fault = hooks.fault?.(entry)
    if (fault === 'reset') {
      state.injected++
      entry.outcome = 'reset'
      req.socket.destroy()
      return
    }
    if (fault) {
      state.injected++
      entry.outcome = fault.status
      req.resume()
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml', connection: 'close' })
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected by the test proxy</Message></Error>`)
      })
      return
    }
    const up = http.request({ host: '127.0.0.1', port: upstream(), method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers)
      upRes.pipe(res)
      upRes.on('end', () => {
        entry.outcome = upRes.statusCode
        hooks.onResponse?.(entry)
      })
      upRes.on('error', () => res.destroy())
    })
    const hash = createHash('sha256')
    req.on('data', (chunk: Buffer) => hash.update(chunk))
    req.on('end', () => void (entry.bodySha256 = hash.digest('hex')))
    up.on('error', () => {
      entry.outcome = 'upstream-error'
      req.socket.destroy()
    })
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    get injected() {
      return state.injected
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
