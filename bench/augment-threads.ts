/**
 * augment-threads: where an augmented frame's CPU goes, by thread: one run of augmentShard over a small shard of the
 * benchmark's frames, with each thread's CPU time read from each /proc/self/task entry's schedstat before and after (Linux only). The main
 * thread, the frame workers' JavaScript threads, libuv's pool (where sharp runs libvips), V8's helper threads (GC,
 * compilation) and any others are reported apart, in CPU ms per frame; a first pass over the shard (start-up, warm-up) apart.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { augmentShard } from '../operators/augment/augment-shard.ts'
import { FramePool } from '../operators/augment/frame-pool.ts'
import { RECIPE, sourceShard } from './augment.ts'
import { intFlag } from './stats.ts'

/** CPU ms of each live thread of this process (the scheduler's nanosecond count), by thread id, with its name. */
function threads(): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
      out.set(tid, { name, ms: ns / 1e6 })
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out
}

/** Per thread group (name), CPU ms spent between two snapshots; threads that ended in between are lost (none should). */
function spent(
  a: Map<string, { name: string; ms: number }>,
  b: Map<string, { name: string; ms: number }>,
  main: string,
  helpers: ReadonlySet<string>,
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [tid, t] of b) {
    // Threads that existed before the pool: V8's platform workers (GC, compilation) and libuv's pool (fs, sharp's calls).
    const key = tid === main ? 'main' : t.name !== 'node' ? t.name : helpers.has(tid) ? 'V8 and libuv helpers' : 'frame workers'
    out[key] = (out[key] ?? 0) + t.ms - (a.get(tid)?.ms ?? 0)
  }
  return out
}

/** `npm run bench -- augment-threads [--frames N] [--workers N]` */
export async function run(args: string[] = []): Promise<{ line: string; json: Record<string, unknown> }> {
  const frames = intFlag(args, '--frames', 60)
  const workers = intFlag(args, '--workers', 1)
  const src = await sourceShard(frames)
  const out = await mkdtemp(path.join(os.tmpdir(), 'augment-threads-'))
  const main = String(process.pid)
  try {
    const helpers = new Set(threads().keys())
    const pool = new FramePool({ workers })
    const c0 = process.cpuUsage()
    // The first pass holds the pool's start-up and the JIT's warm-up; the second is the steady cost of a frame.
    await augmentShard({ dir: src, outDir: out, recipe: RECIPE }, { pool })
    const c1 = process.cpuUsage()
    const t1 = threads()
    const res = await augmentShard({ dir: src, outDir: out, recipe: RECIPE }, { pool })
    const t2 = threads()
    const c2 = process.cpuUsage()
    await pool.close()
    const ms = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user + b.system - a.user - a.system) / 1000
    const r2 = (n: number): number => Math.round(n * 100) / 100
    const byThread = Object.fromEntries(Object.entries(spent(t1, t2, main, helpers)).map(([k, v]) => [k, r2(v / res.frames)]))
    const first = r2(ms(c0, c1) / res.frames)
    const steady = r2(ms(c1, c2) / res.frames)
    const line = `augment-threads: ${res.frames} frames, ${workers} worker(s): first pass ${first}, steady ${steady} CPU ms/frame; ${JSON.stringify(byThread)}`
    return { line, json: { frames: res.frames, workers, firstPassCpuMsPerFrame: first, steadyCpuMsPerFrame: steady, byThread } }
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}
