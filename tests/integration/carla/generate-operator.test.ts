/** carlaGenerate() through the operator SDK's mock context: config slice, logs, progress, outlets, heartbeat resume. */
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { carlaGenerate } from '../../../operators/carla/index.ts'
import { MockOperatorEnvironment } from '../../../runtime/testing.ts'
import { FakeCarlaServer } from './helpers/fake-carla-server.ts'
import { smallScenario, tempDir } from './helpers/shard.ts'

let server: FakeCarlaServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

/** Fails the second set_episode_settings (the restore in teardown), so the shard is recorded but the try fails. */
function failRestore(): (method: string) => string | void {
  let calls = 0
  return (method) => (method === 'set_episode_settings' && ++calls === 2 ? 'settings refused by the test' : undefined)
}

describe('carlaGenerate() as an operator', () => {
  it('sets its operator name on the task spec and suggests the gpu pool', () => {
    const spec = carlaGenerate()
    expect(spec).toMatchObject({ kind: 'function', operator: 'carla.generate', settings: { pool: 'gpu' } })
    expect(carlaGenerate.operatorName).toBe('carla.generate')
  })

  it('records a shard: first line names the operator, lines carry task fields, progress in frames, the folder as outlet', async () => {
    server = await new FakeCarlaServer().start()
    const outDir = await tempDir()
    const env = new MockOperatorEnvironment({
      item: { scenario: smallScenario({ frames: 4 }), host: '127.0.0.1', port: server.rpcPort, tmPort: 1, outDir },
      taskId: 'simulate',
      maxTries: 3,
    })
    const res = await env.run(carlaGenerate())
    expect(res).toMatchObject({ shard: 'test-shard', frames: 4, dir: path.join(outDir, 'test-shard') })
    expect(env.logs[0]).toEqual({
      message: 'operator carla.generate: try 1 of 3',
      fields: { dag: 'test_dag', run: 'manual__test', task: 'simulate', map: 0, try: 1 },
    })
    const loaded = env.logs.find((l) => l.message.startsWith('loaded /Game/Carla/Maps/Town10HD_Opt'))
    expect(loaded?.fields).toMatchObject({ task: 'simulate', try: 1, shard: 'test-shard' })
    expect(env.progress.map((p) => [p.done, p.total, p.unit])).toEqual([
      [1, 4, 'frames'],
      [2, 4, 'frames'],
      [3, 4, 'frames'],
      [4, 4, 'frames'],
    ])
    expect(env.outlets).toEqual([
      { uri: pathToFileURL(res.dir).href, extra: { shard: 'test-shard', frames: 4, labels: res.labels, bytes: res.bytes } },
    ])
    expect(env.heartbeats).toHaveLength(1)
    expect(env.lastDetails).toMatchObject({ recorded: { shard: 'test-shard', frames: 4, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) } })
  })

  it('takes what a bare scenario leaves out from its config slice (CARLA_* variables)', async () => {
    server = await new FakeCarlaServer().start()
    const outDir = await tempDir()
    const env = new MockOperatorEnvironment({
      item: smallScenario({ frames: 2 }),
      env: { CARLA_HOST: '127.0.0.1', CARLA_PORT: String(server.rpcPort), CARLA_TM_PORT: '1', CARLA_OUT_DIR: outDir, CARLA_WRITERS: '1' },
    })
    const res = await env.run(carlaGenerate())
    expect(res.dir).toBe(path.join(outDir, 'test-shard'))
    expect(res.frames).toBe(2)
  })

  it('fails without retries on a bad config value, naming the variable, before connecting', async () => {
    const env = new MockOperatorEnvironment({ item: smallScenario(), env: { CARLA_PORT: 'two thousand' } })
    const err = await env.run(carlaGenerate()).catch((e) => e)
    expect(err).toMatchObject({ code: 'task_failure', nonRetryable: true })
    expect(err.message).toMatch(/^CARLA_PORT="two thousand": .* \(operator carla\.generate\)$/)
  })

  it('a try whose teardown failed after the shard was written: the retry reuses the shard without a server', async () => {
    server = await new FakeCarlaServer({ onCall: failRestore() }).start()
    const outDir = await tempDir()
    const first = new MockOperatorEnvironment({
      item: { scenario: smallScenario({ frames: 3 }), host: '127.0.0.1', port: server.rpcPort, tmPort: 1, outDir },
      maxTries: 2,
    })
    const err = await first.run(carlaGenerate()).catch((e) => e)
    expect(err).toMatchObject({ code: 'task_failure', nonRetryable: false })
    expect(err.message).toContain('recorded, but cleanup failed: restore episode settings')
    expect(first.outlets).toEqual([])
    await server.close()
    server = null

    const second = first.retry()
    expect(second.context.tryNumber).toBe(2)
    const res = await second.run(carlaGenerate())
    expect(res).toMatchObject({ shard: 'test-shard', frames: 3, dir: path.join(outDir, 'test-shard') })
    expect(second.logs.some((l) => l.message.includes('reusing it'))).toBe(true)
    expect(second.outlets).toHaveLength(1)
  })

  it('records again when the shard on disk is not the one the previous try wrote', async () => {
    server = await new FakeCarlaServer({ onCall: failRestore() }).start()
    const outDir = await tempDir()
    const first = new MockOperatorEnvironment({
      item: { scenario: smallScenario({ frames: 2 }), host: '127.0.0.1', port: server.rpcPort, tmPort: 1, outDir },
    })
    await expect(first.run(carlaGenerate())).rejects.toThrow(/cleanup failed/)
    const manifest = path.join(outDir, 'test-shard', 'manifest.json')
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"frames"', '"frames" ')) // same meaning, other bytes

    const second = first.retry()
    const res = await second.run(carlaGenerate())
    expect(res.frames).toBe(2)
    expect(second.logs.some((l) => l.message === 'recording the shard again: the previous try recorded it, but its manifest.json changed')).toBe(true)
    expect(second.logs.some((l) => l.message.startsWith('loaded /Game/Carla/Maps/'))).toBe(true)
  })

  it('stops when the mock aborts it mid-shard', async () => {
    server = await new FakeCarlaServer().start()
    const env = new MockOperatorEnvironment({
      item: { scenario: smallScenario({ frames: 50 }), host: '127.0.0.1', port: server.rpcPort, tmPort: 1, outDir: await tempDir() },
    })
    env.on('progress', (p: { done: number }) => p.done === 2 && env.abort(new Error('cancelled by the test')))
    const err = await env.run(carlaGenerate()).catch((e) => e)
    expect(err).toBeInstanceOf(Error)
    expect(env.progress.length).toBeLessThan(50)
    expect(env.heartbeats).toEqual([])
    expect(env.outlets).toEqual([])
  })
})
