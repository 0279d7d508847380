import { afterEach, describe, expect, it } from 'vitest'
import { readFile, readdir, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { generateShard } from '../../../operators/carla/generate/carla-generate.ts'
import { ScenarioError } from '../../../operators/carla/scenario.ts'
import { FakeCarlaServer } from './helpers/fake-carla-server.ts'
import { envRecorder, smallScenario, tempDir } from './helpers/shard.ts'

let server: FakeCarlaServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

describe('generateShard against the in-test CARLA double', () => {
  it('records frames, labels and a manifest whose checksums match the files, then cleans up', async () => {
    server = await new FakeCarlaServer().start()
    const out = await tempDir()
    const rec = envRecorder()
    const res = await generateShard({ scenario: smallScenario(), host: '127.0.0.1', port: server.rpcPort, tmPort: 1, outDir: out }, rec.env)
    expect(res).toMatchObject({ shard: 'test-shard', frames: 5, dir: path.join(out, 'test-shard') })
    expect(res.bytes).toBeGreaterThan(5 * 2 * 320 * 240 * 4)
    expect(await readdir(path.join(res.dir, 'frames', 'rgb'))).toHaveLength(5)
    expect(await readdir(path.join(res.dir, 'labels', 'kitti'))).toHaveLength(5)
    // Three NPC cars stand 10–70 m ahead of the ego's camera in the double's map: each frame labels them.
    expect(res.labels).toBe(15)
    const kitti = await readFile(path.join(res.dir, 'labels', 'kitti', (await readdir(path.join(res.dir, 'labels', 'kitti')))[0]!), 'utf8')
    expect(kitti.trim().split('\n')).toHaveLength(3)
    expect(kitti).toMatch(/^Car 0\.00 0 /)
    const coco = JSON.parse(await readFile(path.join(res.dir, 'labels', 'coco.json'), 'utf8'))
    expect(coco.annotations).toHaveLength(15)
    expect(coco.images).toHaveLength(5)
    const manifest = JSON.parse(await readFile(path.join(res.dir, 'manifest.json'), 'utf8'))
    expect(manifest.frames).toHaveLength(5)
    expect(manifest.sensors.map((s: { name: string }) => s.name)).toEqual(['rgb', 'depth'])
    for (const f of manifest.files) {
      const body = await readFile(path.join(res.dir, f.path))
      expect(createHash('sha256').update(body).digest('hex')).toBe(f.sha256)
      expect((await stat(path.join(res.dir, f.path))).size).toBe(f.bytes)
    }
    // A raw frame is exactly the BGRA bytes the double sent for that frame.
    const first = manifest.frames[0].frame
    const raw = await readFile(path.join(res.dir, 'frames', 'rgb', `${String(first).padStart(8, '0')}.raw`))
    expect(raw.length).toBe(320 * 240 * 4)
    // The double fills frame F of stream 2 (the first sensor) with (F + 2) & 0xff.
    expect(raw.every((b) => b === ((first + 2) & 0xff))).toBe(true)
    expect(rec.progress).toEqual([1, 2, 3, 4, 5])
    // Teardown: nothing we spawned is left, and the server is back in async mode with its settings.
    expect(server.aliveActors).toEqual([])
    expect(server.syncMode).toBe(false)
    // The double's TM port (1) refuses connections: the shard logs it and goes on with static NPCs.
    expect(rec.logs.some((l) => l.message.includes('NPC vehicles will not drive'))).toBe(true)
  })

  it('rejects a bad scenario naming the field before connecting to anything', async () => {
    const bad = smallScenario({ fixedDelta: 0.5 })
    await expect(generateShard({ scenario: bad, host: '127.0.0.1', port: 9 })).rejects.toMatchObject({ field: 'fixedDelta' })
    const err = await generateShard({ scenario: smallScenario({ frames: 0 }), host: '127.0.0.1', port: 9 }).catch((e) => e)
    expect(err).toBeInstanceOf(ScenarioError)
    expect(err.nonRetryable).toBe(true)
  })

  it('rejects an unknown sensor blueprint naming the field, with nothing spawned and settings restored', async () => {
    server = await new FakeCarlaServer().start()
    const scenario = smallScenario({ sensors: [{ name: 'lidar', blueprint: 'sensor.lidar.nope' }] })
    const err = await generateShard({ scenario, host: '127.0.0.1', port: server.rpcPort, outDir: await tempDir() }).catch((e) => e)
    expect(err).toBeInstanceOf(ScenarioError)
    expect(err.field).toBe('sensors.0.blueprint')
    expect(server.calls.some((c) => c.method.startsWith('spawn'))).toBe(false)
    expect(server.syncMode).toBe(false)
  })

  it('rejects a map the server does not have, naming the field and listing what it has', async () => {
    server = await new FakeCarlaServer().start()
    const err = await generateShard({
      scenario: smallScenario({ map: 'Town99' }),
      host: '127.0.0.1',
      port: server.rpcPort,
      outDir: await tempDir(),
    }).catch((e) => e)
    expect(err).toBeInstanceOf(ScenarioError)
    expect(err.field).toBe('map')
    expect(err.message).toContain('available: Town01, Town10HD_Opt')
    expect(server.calls.map((c) => c.method)).toEqual(['version', 'get_available_maps'])
  })
})
