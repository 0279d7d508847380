import type { LogChunk } from '../store/attempt-log.ts'
import type { AttemptOutcome } from '../store/attempt-outcome.ts'
import type { AttemptReporter, LoadedAttempt, RelayCall, RelayMethod, RelayReply } from './attempt-reporter.ts'

/** The side of the IPC channel a runner talks over: a forked process's own `process`. */
export interface RelayChannel {
  send?(message: unknown, ...rest: never[]): unknown
  on(event: 'message', listener: (message: unknown) => void): unknown
  off(event: 'message', listener: (message: unknown) => void): unknown
  readonly connected?: boolean
}

/**
 * The reporter of a runner whose store is an embedded PGlite owned by another process (its parent): every call
 * goes over the Node IPC channel, and the owner runs the same store functions a direct reporter would
 * (serve-attempt-reports.ts). PGlite is one Postgres session inside one process: a runner cannot open it itself.
 */
export class RelayAttemptReporter implements AttemptReporter {
  private next = 1
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private listener = (m: unknown) => this.onMessage(m as RelayReply)

  constructor(
    readonly attemptId: number,
    private channel: RelayChannel = process as unknown as RelayChannel,
  ) {
    channel.on('message', this.listener)
  }

  private onMessage(m: RelayReply): void {
    if (m?.forge !== 'attempt-reply') return
    const p = this.pending.get(m.id)
    if (!p) return
    this.pending.delete(m.id)
    if (m.ok) p.resolve(m.value)
    else p.reject(new Error(m.error))
  }

  private call<T>(method: RelayMethod, ...args: unknown[]): Promise<T> {
    if (!this.channel.send || this.channel.connected === false)
      return Promise.reject(new Error('the process that owns the store is gone (IPC channel closed)'))
    const id = this.next++
    const message: RelayCall = { forge: 'attempt-call', id, attemptId: this.attemptId, method, args }
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      ;(this.channel.send as (m: unknown, cb: (err: Error | null) => void) => void)(message, (err) => {
        if (!err) return
        this.pending.delete(id)
        reject(err)
      })
    })
  }

  load(): Promise<LoadedAttempt | null> {
    return this.call('load')
  }

  begin(runnerId: string, executorId: string | null): Promise<boolean> {
    return this.call('begin', runnerId, executorId)
  }

  heartbeat(details?: unknown): Promise<boolean> {
    return this.call('heartbeat', details === undefined ? null : { details })
  }

  log(chunk: LogChunk): Promise<void> {
    return this.call('log', chunk)
  }

  record(outcome: AttemptOutcome): Promise<boolean> {
    return this.call('record', outcome)
  }

  async close(): Promise<void> {
    this.channel.off('message', this.listener)
    for (const p of this.pending.values()) p.reject(new Error('reporter closed'))
    this.pending.clear()
  }
}
