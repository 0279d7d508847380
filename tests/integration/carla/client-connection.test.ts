/** Connection failures must reject every pending call with a clear error: no crash, no hung promise. */
import { afterEach, describe, expect, it } from 'vitest'
import net from 'node:net'
import { CarlaClient } from '../../../operators/carla/client/carla-client.ts'
import { CarlaConnectionError, CarlaTimeoutError } from '../../../operators/carla/client/errors.ts'
import { FakeCarlaServer } from './helpers/fake-carla-server.ts'

let server: FakeCarlaServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

/** Settles within `ms` or fails the test: the point of these tests is that nothing hangs. */
function settled<T>(p: Promise<T>, ms = 3000): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  return Promise.race([
    p.then(
      (value) => ({ ok: true as const, value }),
      (error: Error) => ({ ok: false as const, error }),
    ),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`promise still pending after ${ms} ms`)), ms)),
  ])
}

describe('CarlaClient connection handling', () => {
  it('connecting to a closed port rejects with CarlaConnectionError (no process crash)', async () => {
    const probe = net.createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()))
    const port = (probe.address() as net.AddressInfo).port
    await new Promise((r) => probe.close(r))
    const r = await settled(CarlaClient.connect({ host: '127.0.0.1', port }))
    expect(r.ok).toBe(false)
    expect((r as { error: Error }).error).toBeInstanceOf(CarlaConnectionError)
    expect((r as { error: Error }).error.message).toMatch(/carla rpc 127\.0\.0\.1:\d+: cannot connect \(connect ECONNREFUSED/)
  })

  it('a server killed with calls in flight rejects all of them, and later calls reject at once', async () => {
    server = await new FakeCarlaServer({ onCall: (m) => (m === 'tick_cue' ? 'hang' : undefined) }).start()
    const client = await CarlaClient.connect({ host: '127.0.0.1', port: server.rpcPort, timeoutMs: 60_000 })
    expect(await client.version()).toBe('0.9.15')
    const pending = [client.tickCue(), client.tickCue(), client.tickCue()]
    await new Promise((r) => setTimeout(r, 30))
    server.kill()
    const results = await Promise.all(pending.map((p) => settled(p)))
    for (const r of results) {
      expect(r.ok).toBe(false)
      expect((r as { error: Error }).error).toBeInstanceOf(CarlaConnectionError)
      expect((r as { error: Error }).error.message).toMatch(
        /^tick_cue: carla rpc 127\.0\.0\.1:\d+: (connection closed by the server|read ECONNRESET)/,
      )
    }
    const after = await settled(client.getEpisodeSettings())
    expect(after.ok).toBe(false)
    expect((after as { error: Error }).error.message).toMatch(/^get_episode_settings: /)
    expect(client.closed).toBe(true)
  })

  it('a call with no reply times out with CarlaTimeoutError; the connection stays usable', async () => {
    server = await new FakeCarlaServer({ onCall: (m) => (m === 'tick_cue' ? 'hang' : undefined) }).start()
    const client = await CarlaClient.connect({ host: '127.0.0.1', port: server.rpcPort, timeoutMs: 150 })
    const t0 = Date.now()
    const r = await settled(client.tickCue())
    expect(r.ok).toBe(false)
    expect((r as { error: Error }).error).toBeInstanceOf(CarlaTimeoutError)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
    expect(await client.version()).toBe('0.9.15')
    client.close()
  })

  it('the default per-call timeout is 5000 ms, as in CARLA', async () => {
    server = await new FakeCarlaServer().start()
    const client = await CarlaClient.connect({ host: '127.0.0.1', port: server.rpcPort })
    expect((client as unknown as { conn: { timeoutMs: number } }).conn.timeoutMs).toBe(5000)
    client.close()
  })

  it('a peer sending garbage fails pending calls with a clear error', async () => {
    const bad = net.createServer((s) => s.on('data', () => s.write(Buffer.from([0x93, 0x05, 0x06, 0x07]))))
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', () => r()))
    const client = await CarlaClient.connect({ host: '127.0.0.1', port: (bad.address() as net.AddressInfo).port })
    const r = await settled(client.version())
    expect(r.ok).toBe(false)
    expect((r as { error: Error }).error.message).toMatch(/^version: .*bad data from the server \(expected a response \[1, msgid, error, result\]/)
    client.close()
    await new Promise((res) => bad.close(res))
  })
})
