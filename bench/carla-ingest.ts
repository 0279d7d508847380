/**
 * carla-ingest: how fast a shard streams 1280×720 RGB + depth + semantic frames from carla-lite (the procedural
 * stand-in, in-process) through the client to disk, next to what plain loopback TCP can carry in the same run.
 *
 * Targets on 2 cores: ≥ 100 frames/s raw 1280×720 RGB with labels, ≥ 25 frames/s PNG.
 * A "frame" is one simulation step with every sensor's image (3 images here, plus the RGB-only case).
 * carla-lite runs in a child process, as a real server would: in-process it would share the client's event loop.
 */
import net from 'node:net'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { CarlaClient } from '../operators/carla/client/carla-client.ts'
import type { EmbeddedServer } from '../operators/carla/generate/embedded-server.ts'
import { generateShard } from '../operators/carla/generate/carla-generate.ts'
import type { ScenarioInput } from '../operators/carla/scenario.ts'
import { median } from './stats.ts'

const W = 1280
const H = 720
const DEFAULT_REPS = 3
const IMAGE_MESSAGE = 4 + 48 + 12 + W * H * 4

const camera = (name: string, blueprint: string) => ({
  name,
  blueprint,
  attributes: { image_size_x: W, image_size_y: H, fov: 90 },
  transform: { location: { x: 1.5, y: 0, z: 2.4 }, rotation: { pitch: 0, yaw: 0, roll: 0 } },
})
const ALL = [camera('rgb', 'sensor.camera.rgb'), camera('depth', 'sensor.camera.depth'), camera('semantic', 'sensor.camera.semantic_segmentation')]

interface Sample {
  fps: number
  mbps: number
}

/**
 * Flushes dirty pages so each run starts from the same page-cache state; otherwise a run pays for the writeback of
 * the previous one and the samples drift (measured: 45 → 21 frames/s over three back-to-back raw runs).
 */
function flushDisk(): void {
  try {
    execFileSync('sync')
  } catch {
    // No sync binary: the samples are just noisier.
  }
}

async function shard(
  server: EmbeddedServer,
  map: string,
  format: 'raw' | 'png',
  sensors: typeof ALL,
  frames: number,
  base = os.tmpdir(),
): Promise<Sample> {
  flushDisk()
  const outDir = await mkdtemp(path.join(base, 'carla-ingest-'))
  const scenario: ScenarioInput = {
    map,
    weather: 'ClearNoon',
    sensors,
    npcs: { vehicles: 20, pedestrians: 10 },
    frames,
    warmupTicks: 3,
    format,
    seed: 1,
  }
  let first = 0
  try {
    const res = await generateShard(
      { scenario, host: '127.0.0.1', port: server.rpcPort, tmPort: server.tmPort, outDir },
      { progress: (done) => void (done === 1 && (first = performance.now())) },
    )
    // From the first recorded frame to the shard's end (writer drained, manifest written, teardown done).
    const seconds = (performance.now() - first) / 1000
    const n = res.frames - 1
    return { fps: n / seconds, mbps: (res.bytes * (n / res.frames)) / seconds / 1e6 }
  } finally {
    await rm(outDir, { recursive: true, force: true })
  }
}

/** The same message sizes over a plain loopback socket pair in this process: the copy limit the client competes with. */
async function loopback(messages: number): Promise<number> {
  const chunk = Buffer.alloc(IMAGE_MESSAGE, 7)
  const server = net.createServer((s) => {
    let sent = 0
    const pump = (): void => {
      while (sent < messages) {
        sent++
        if (!s.write(chunk)) return void s.once('drain', pump)
      }
      s.end()
    }
    pump()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const t0 = performance.now()
  const bytes = await new Promise<number>((resolve, reject) => {
    let n = 0
    const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    c.setNoDelay(true)
    c.on('data', (d: Buffer) => void (n += d.length))
    c.on('end', () => resolve(n))
    c.on('error', reject)
  })
  const mbps = bytes / ((performance.now() - t0) / 1000) / 1e6
  await new Promise((r) => server.close(r))
  return mbps
}

/** Starts carla-lite in a child node process and reads its ports from the first stdout line. */
async function startLiteProcess(moduleUrl = new URL('../operators/carla/lite/index.ts', import.meta.url).href): Promise<EmbeddedServer> {
  const code =
    `const m = await import(${JSON.stringify(moduleUrl)});` +
    `const s = await m.startCarlaLite({ port: 0, host: '127.0.0.1' });` +
    `process.stdout.write(JSON.stringify({ rpcPort: s.rpcPort, streamPort: s.streamPort, tmPort: s.tmPort }) + '\\n');` +
    `process.on('SIGTERM', () => s.close().finally(() => process.exit(0)));`
  const cwd = new URL('..', import.meta.url).pathname
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
  const ports = await new Promise<{ rpcPort: number; streamPort: number; tmPort: number }>((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (d: Buffer) => {
      buf += d
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!))
    })
    child.once('exit', (code) => reject(new Error(`carla-lite child exited with code ${code} before reporting its ports`)))
  })
  return {
    ...ports,
    close: () => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM'))),
  }
}

/** `npm run bench -- carla-ingest [--reps N] [--lite MODULE_URL]`; bench/run.ts passes the argument list. */
export async function run(args: string[] = []): Promise<{ line: string; json: Record<string, unknown> }> {
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const reps = Math.max(1, Number(flag('--reps') ?? DEFAULT_REPS))
  const server = await startLiteProcess(flag('--lite'))
  try {
    const client = await CarlaClient.connect({ host: '127.0.0.1', port: server.rpcPort })
    const map = (await client.getAvailableMaps())[0]!
    client.close()
    const raw: Sample[] = []
    const rgbOnly: Sample[] = []
    const png: Sample[] = []
    const loop: number[] = []
    const memory: Sample[] = []
    // tmpfs shows the client's own limit, without the disk.
    const shm = existsSync('/dev/shm') ? '/dev/shm' : null
    for (let i = 0; i < reps; i++) {
      raw.push(await shard(server, map, 'raw', ALL, 60))
      rgbOnly.push(await shard(server, map, 'raw', ALL.slice(0, 1), 120))
      png.push(await shard(server, map, 'png', ALL, 40))
      if (shm) memory.push(await shard(server, map, 'raw', ALL, 60, shm))
      loop.push(await loopback(200))
    }
    const r = { fps: median(raw.map((s) => s.fps)), mbps: median(raw.map((s) => s.mbps)) }
    const o = { fps: median(rgbOnly.map((s) => s.fps)), mbps: median(rgbOnly.map((s) => s.mbps)) }
    const p = { fps: median(png.map((s) => s.fps)), mbps: median(png.map((s) => s.mbps)) }
    const l = median(loop)
    const m = memory.length ? { fps: median(memory.map((x) => x.fps)), mbps: median(memory.map((x) => x.mbps)) } : null
    const line =
      `carla-ingest: ${r.fps.toFixed(1)} frames/s, ${r.mbps.toFixed(0)} MB/s (loopback copy limit ${l.toFixed(0)} MB/s); ` +
      `png: ${p.fps.toFixed(1)} frames/s; rgb-only raw: ${o.fps.toFixed(1)} frames/s` +
      (m ? `; raw to tmpfs: ${m.fps.toFixed(1)} frames/s, ${m.mbps.toFixed(0)} MB/s ` : ' ') +
      `[1280×720 RGB+depth+semantic, labels, carla-lite stand-in in a child process, median of ${reps}, ${os.availableParallelism()} cores]`
    return {
      line,
      json: {
        resolution: [W, H],
        sensors: ALL.map((s) => s.blueprint),
        repetitions: reps,
        cores: os.availableParallelism(),
        raw: { ...r, samples: raw },
        rawRgbOnly: { ...o, samples: rgbOnly },
        png: { ...p, samples: png },
        rawToTmpfs: m ? { ...m, samples: memory } : null,
        loopbackMBps: { median: l, samples: loop },
        targets: { rawRgbFps: 100, pngFps: 25 },
        server: 'carla-lite (procedural stand-in, not CARLA)',
      },
    }
  } finally {
    await server.close()
  }
}
