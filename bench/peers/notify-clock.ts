// When a commit happened, as near as a client can tell: the NOTIFY it sent, stamped on arrival by a listener in a
// worker thread of its own, so that a busy main thread (the scheduler or worker being measured) cannot delay the stamp.
import { Worker } from 'node:worker_threads'

export interface NotifyClock {
  /** Every NOTIFY heard so far, in order, with its arrival (epoch ms, sub-millisecond). */
  readonly heard: Array<{ payload: string; at: number }>
  /** The arrival of the first NOTIFY at index `from` or later that `match` accepts, waiting up to `ms` for it. */
  first(match: (payload: string) => boolean, from?: number, ms?: number): Promise<number>
  close(): Promise<void>
}

export async function notifyClock(url: string, channel: string): Promise<NotifyClock> {
  const worker = new Worker(new URL('./notify-clock-worker.mjs', import.meta.url), { workerData: { url, channel } })
  const heard: NotifyClock['heard'] = []
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject)
    worker.on('message', (m: { ready?: true; payload?: string; at?: number }) => {
      if (m.ready) resolve()
      else heard.push({ payload: m.payload!, at: m.at! })
    })
  })
  return {
    heard,
    async first(match, from = 0, ms = 2000) {
      const end = Date.now() + ms
      for (;;) {
        const hit = heard.slice(from).find((h) => match(h.payload))
        if (hit) return hit.at
        if (Date.now() > end) throw new Error(`no NOTIFY on ${channel} matched within ${ms} ms`)
        await new Promise((r) => setTimeout(r, 5))
      }
    },
    async close() {
      const exited = new Promise((r) => worker.once('exit', r))
      worker.postMessage('close')
      await exited
    },
  }
}
