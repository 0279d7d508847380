/**
 * Every exit path must leave the server as we found it: no actors of ours alive, the saved episode settings
 * restored (a server left in sync mode freezes), and no promise left hanging.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { generateShard } from '../../../operators/carla/generate/carla-generate.ts'
import { CarlaConnectionError, CarlaRpcError, CarlaTimeoutError } from '../../../operators/carla/client/errors.ts'
import { ShardAbortedError } from '../../../operators/carla/generate/abort.ts'
import { FrameTimeoutError } from '../../../operators/carla/generate/frame-collector.ts'
import { FakeCarlaServer, type FakeServerOptions } from './helpers/fake-carla-server.ts'
import { envRecorder, smallScenario, tempDir } from './helpers/shard.ts'

let server: FakeCarlaServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

/** tick_cue calls: 2 warm-up ticks, then one per recorded frame. */
function onTick(n: number, act: (s: FakeCarlaServer) => 'kill' | 'hang' | string | void): FakeServerOptions['onCall'] {
  let ticks = 0
  return (method, _params, s) => (method === 'tick_cue' && ++ticks === n ? act(s) : undefined)
}

async function run(opts: FakeServerOptions, extra: { signal?: AbortSignal; rpcTimeoutMs?: number; frameTimeoutMs?: number } = {}) {
  server = await new FakeCarlaServer(opts).start()
  const rec = envRecorder(extra.signal)
  const started = Date.now()
  const scenario = smallScenario({ frames: 20, frameTimeoutMs: extra.frameTimeoutMs ?? 2000 })
  const err = await generateShard(
    { scenario, host: '127.0.0.1', port: server.rpcPort, tmPort: 1, outDir: await tempDir(), rpcTimeoutMs: extra.rpcTimeoutMs },
    rec.env,
  ).then(
    () => null,
    (e: Error) => e,
  )
  return { err, ms: Date.now() - started, rec }
}

function expectCleanServer(s: FakeCarlaServer): void {
  expect(s.aliveActors).toEqual([])
  expect(s.syncMode).toBe(false)
  // The restore sent back exactly what get_episode_settings returned before sync mode (fixed step off).
  const restores = s.calls.filter((c) => c.method === 'set_episode_settings')
  expect(restores.length).toBe(2)
  expect(restores[1]!.params[1]).toEqual([false, false, [false], true, 0.01, 10, 0, true, 3000, 2000, true])
}

describe('generateShard failure paths', () => {
  it('fails clearly and promptly when the server dies mid-shard', async () => {
    const { err, ms, rec } = await run({ onCall: onTick(5, () => 'kill') })
    expect(err).toBeInstanceOf(CarlaConnectionError)
    expect(err!.message).toMatch(/tick_cue: carla rpc 127\.0\.0\.1:\d+: (connection closed by the server|read ECONNRESET)/)
    // Teardown ran against a dead server: every step failed fast and is reported in the message.
    expect(err!.message).toMatch(/teardown: .*restore episode settings/)
    expect(ms).toBeLessThan(5000)
    expect(rec.progress.length).toBe(2)
  })

  it('destroys actors and restores settings when an RPC fails mid-shard', async () => {
    const { err } = await run({ onCall: onTick(6, () => 'simulated server fault') })
    expect(err).toBeInstanceOf(CarlaRpcError)
    expect(err).toMatchObject({ method: 'tick_cue', serverMessage: 'simulated server fault' })
    expectCleanServer(server!)
  })

  it('destroys actors and restores settings when the task is aborted (SIGTERM / task timeout)', async () => {
    const ac = new AbortController()
    const { err, rec } = await run({ onCall: onTick(6, () => void setImmediate(() => ac.abort(new Error('SIGTERM')))) }, { signal: ac.signal })
    expect(err).toBeInstanceOf(ShardAbortedError)
    expect(err!.message).toContain('SIGTERM')
    expect(rec.progress.length).toBeGreaterThanOrEqual(3)
    expect(rec.progress.length).toBeLessThan(20)
    expectCleanServer(server!)
  })

  it('times out waiting for a sensor frame, naming the sensor, and cleans up', async () => {
    const { err } = await run({ onCall: onTick(4, (s) => void (s.muteSensors = true)) }, { frameTimeoutMs: 300 })
    expect(err).toBeInstanceOf(FrameTimeoutError)
    expect(err!.message).toMatch(/waiting for frame \d+ from: rgb \(latest frame \d+\), depth/)
    expectCleanServer(server!)
  })

  it('times out a hung RPC with CARLA-style per-call timeouts and cleans up', async () => {
    const { err, ms } = await run({ onCall: onTick(4, () => 'hang') }, { rpcTimeoutMs: 300 })
    expect(err).toBeInstanceOf(CarlaTimeoutError)
    expect(err!.message).toBe('tick_cue: no reply from the server within 300 ms')
    expect(ms).toBeLessThan(5000)
    expectCleanServer(server!)
  })
})
