import pg from 'pg'
import { connectionConfig } from './connect.ts'

/**
 * Advisory lock classes (the first key of two-key advisory locks): one per concept, so a lock never collides with
 * another kind. A scheduler holds (SCHEDULER_LOCK_CLASS, hashtext(its id)) for as long as it lives.
 */
export const SCHEDULER_LOCK_CLASS = 0x46534348 // 'FSCH'

/**
 * Holds this scheduler's liveness lock on a connection of its own, for as long as the process lives: Postgres
 * releases it the moment the connection dies, which is how other schedulers see within a second or two that this
 * one is gone (store/orphans.ts). When the connection drops, `onLost` is called at once (others are about to end
 * this scheduler's attempts: it must stop those it runs itself); then the connection is re-established and the
 * lock taken again.
 */
export async function holdSchedulerLock(url: string, schedulerId: string, onLost: () => void): Promise<{ release(): Promise<void> }> {
  let closed = false
  let client: pg.Client | null = null
  const connect = async (): Promise<void> => {
    const c = new pg.Client(connectionConfig(url))
    c.on('error', () => {})
    c.on('end', () => {
      if (closed) return
      client = null
      onLost()
      setTimeout(() => void reconnect(), 500).unref()
    })
    await c.connect()
    await c.query('select pg_advisory_lock($1, hashtext($2))', [SCHEDULER_LOCK_CLASS, schedulerId])
    client = c
  }
  const reconnect = async (): Promise<void> => {
    while (!closed) {
      try {
        await connect()
        return
      } catch {
        await new Promise((r) => setTimeout(r, 1000).unref())
      }
    }
  }
  await connect()
  return {
    async release() {
      closed = true
      await client?.end().catch(() => {})
    },
  }
}
