/** The generator's building blocks: frame matching with bounds, ordered teardown, the bounded writer. */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { FrameBufferOverflowError, FrameCollector, FrameTimeoutError } from '../../../operators/carla/generate/frame-collector.ts'
import { Phase, Teardown } from '../../../operators/carla/generate/teardown.ts'
import { WriterOverflowError, WriterPool } from '../../../operators/carla/generate/writer-pool.ts'
import { ShardAbortedError } from '../../../operators/carla/generate/abort.ts'

const msg = (n: number): Buffer => Buffer.alloc(n, 1)
const dirs: string[] = []
const tmp = async (): Promise<string> => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'writer-'))
  dirs.push(d)
  return d
}
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

describe('FrameCollector', () => {
  it('hands over frame F from every stream, whichever arrives first, and discards older frames', async () => {
    const c = new FrameCollector()
    c.addStream('world')
    c.addStream('rgb')
    c.push('rgb', 4, msg(1))
    c.push('rgb', 5, msg(2))
    const p = c.takeAll(['world', 'rgb'], 5, 1000)
    c.push('world', 5, msg(3))
    const got = await p
    expect(got.get('rgb')!.length).toBe(2)
    expect(got.get('world')!.length).toBe(3)
  })

  it('times out naming the missing streams and their latest frame', async () => {
    const c = new FrameCollector()
    c.addStream('world')
    c.addStream('depth')
    c.push('world', 9, msg(1))
    c.push('depth', 8, msg(1))
    await expect(c.takeAll(['world', 'depth'], 9, 50)).rejects.toThrow(
      new FrameTimeoutError('timed out after 50 ms waiting for frame 9 from: depth (latest frame 8)'),
    )
  })

  it('before the first take (async mode, nothing wanted yet) it keeps only the newest message per stream', async () => {
    const c = new FrameCollector({ maxFramesPerStream: 2 })
    c.addStream('world')
    for (let f = 1; f <= 50; f++) c.push('world', f, msg(10))
    expect((await c.takeAll(['world'], 50, 10)).get('world')!.length).toBe(10)
    await expect(c.takeAll(['world'], 49, 10)).rejects.toBeInstanceOf(FrameTimeoutError)
  })

  it('fails the shard, not silently drops, when a stream runs past its bound; pending and later takes reject', async () => {
    const c = new FrameCollector({ maxFramesPerStream: 3 })
    c.addStream('rgb')
    c.addStream('world')
    const waiting = c.takeAll(['world'], 100, 5000)
    for (let f = 1; f <= 4; f++) c.push('rgb', f, msg(10))
    await expect(waiting).rejects.toBeInstanceOf(FrameBufferOverflowError)
    await expect(c.takeAll(['rgb'], 1, 10)).rejects.toThrow(/stream 'rgb' buffered 4 frames/)
  })

  it('a stream error rejects a pending take at once; an abort signal does too', async () => {
    const c = new FrameCollector()
    c.addStream('rgb')
    const p = c.takeAll(['rgb'], 1, 5000)
    c.fail(new Error('sensor rgb closed by the server'))
    await expect(p).rejects.toThrow('sensor rgb closed by the server')
    const c2 = new FrameCollector()
    c2.addStream('rgb')
    const ac = new AbortController()
    const p2 = c2.takeAll(['rgb'], 1, 5000, ac.signal)
    ac.abort(new Error('SIGTERM'))
    await expect(p2).rejects.toBeInstanceOf(ShardAbortedError)
  })
})

describe('Teardown', () => {
  it('runs phases in order (newest first within one), keeps going past failures and slow steps', async () => {
    const order: string[] = []
    const t = new Teardown()
    t.add(Phase.Connection, 'close', () => void order.push('close'))
    t.add(Phase.Settings, 'restore', () => void order.push('restore'))
    t.add(Phase.Actors, 'ego', () => void order.push('ego'))
    t.add(Phase.Sockets, 'socket a', () => void order.push('socket a'))
    t.add(Phase.Sockets, 'socket b', () => void order.push('socket b'))
    t.add(Phase.Sensors, 'sensors', () => {
      order.push('sensors')
      throw new Error('boom')
    })
    t.add(Phase.TrafficManager, 'slow', () => new Promise(() => {}))
    const report = await t.run(50)
    expect(order).toEqual(['socket b', 'socket a', 'sensors', 'ego', 'restore', 'close'])
    expect(report.failed).toEqual([
      { step: 'sensors', error: 'boom' },
      { step: 'slow', error: 'timed out after 50 ms' },
    ])
  })
})

describe('WriterPool', () => {
  it('writes raw and PNG files in worker threads with correct checksums and pixel order', async () => {
    const dir = await tmp()
    const pool = new WriterPool({ workers: 2 })
    try {
      // 2×1 BGRA: blue, then red.
      const px = Buffer.from([255, 0, 0, 255, 0, 0, 255, 255])
      const raw = await pool.submit({ path: path.join(dir, 'a.raw'), encoding: 'raw', width: 2, height: 1, pixels: px })
      expect(raw.sha256).toBe(createHash('sha256').update(px).digest('hex'))
      const png = await pool.submit({ path: path.join(dir, 'a.png'), encoding: 'png-rgb', width: 2, height: 1, pixels: Buffer.from(px) })
      const decoded = await sharp(await readFile(path.join(dir, 'a.png')))
        .raw()
        .toBuffer()
      expect([...decoded]).toEqual([0, 0, 255, 255, 0, 0])
      expect(png.sha256).toBe(
        createHash('sha256')
          .update(await readFile(path.join(dir, 'a.png')))
          .digest('hex'),
      )
      const gray = await pool.submit({
        path: path.join(dir, 's.png'),
        encoding: 'png-gray-r',
        width: 2,
        height: 1,
        pixels: Buffer.from([0, 0, 14, 255, 0, 0, 12, 255]),
      })
      expect(gray.bytes).toBeGreaterThan(0)
      expect((await sharp(path.join(dir, 's.png')).metadata()).channels).toBe(1)
      expect([...(await sharp(path.join(dir, 's.png')).extractChannel(0).raw().toBuffer())]).toEqual([14, 12])
    } finally {
      await pool.close()
    }
  })

  it('a writer thread that dies fails its pending jobs instead of leaving them hanging', async () => {
    const pool = new WriterPool({ workers: 1 })
    try {
      // The thread is still loading sharp when it is terminated, so the job is certainly still pending.
      const job = pool.submit({ path: path.join(await tmp(), 'x.raw'), encoding: 'raw', width: 0, height: 0, pixels: Buffer.alloc(10) })
      await (pool as unknown as { workers: Array<{ terminate(): Promise<number> }> }).workers[0]!.terminate()
      await expect(job).rejects.toThrow(/file writer thread exited/)
      await expect(pool.waitForRoom()).rejects.toThrow(/file writer thread exited/)
    } finally {
      await pool.close()
    }
  })

  it('throws past the hard bound instead of growing without limit', async () => {
    const dir = await tmp()
    const pool = new WriterPool({ workers: 1, highWaterBytes: 10, maxBytes: 100_000 })
    try {
      const jobs = [pool.submit({ path: path.join(dir, '1.raw'), encoding: 'raw', width: 0, height: 0, pixels: Buffer.alloc(60_000) })]
      expect(() => pool.submit({ path: path.join(dir, '2.raw'), encoding: 'raw', width: 0, height: 0, pixels: Buffer.alloc(60_000) })).toThrow(
        WriterOverflowError,
      )
      let roomed = false
      const room = pool.waitForRoom().then(() => (roomed = true))
      await Promise.all(jobs)
      await room
      expect(roomed).toBe(true)
    } finally {
      await pool.close()
    }
  })
})
