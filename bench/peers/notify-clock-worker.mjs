// The thread behind notify-clock.ts: LISTENs on one channel and stamps each NOTIFY the moment it arrives.
import { parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'

const client = new pg.Client({ connectionString: workerData.url })
await client.connect()
client.on('notification', (n) => parentPort.postMessage({ payload: n.payload ?? '', at: performance.timeOrigin + performance.now() }))
await client.query(`listen ${client.escapeIdentifier(workerData.channel)}`)
parentPort.on('message', async (m) => {
  if (m === 'close') {
    await client.end()
    parentPort.close()
  }
})
parentPort.postMessage({ ready: true })
