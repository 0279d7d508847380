/**
 * s3: upload throughput to s3rver on loopback, adas-forge's s3 operator against the AWS CLI (Debian's awscli 2) and
 * rclone (Debian's), each with its default settings, in the same run and to the same server process.
 *
 * Two workloads: 1,000 objects of 1 MiB, and 4 objects of 256 MiB (1 GiB each). Each tool uploads each workload to
 * a fresh prefix `--reps` times (3), the tools' order rotating per repetition; medians are quoted. MB is 10^6 bytes.
 * The combined figure is both workloads' bytes over the sum of their median times. s3rver's CPU use is read from
 * /proc during every upload: a server near one full core (it is single-threaded JS) is the bottleneck.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { uploadPrefix } from '../operators/s3/index.ts'
import { median } from './stats.ts'

const run$ = promisify(execFile)
const MiB = 1024 * 1024
const AWS = '/usr/bin/aws' // Debian's awscli; a pyenv aws may come first on PATH
const RCLONE = '/usr/bin/rclone'
const BUCKET = 'bench'
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1' }

type Tool = 'adas-forge' | 'aws cli' | 'rclone'
const TOOLS: Tool[] = ['adas-forge', 'aws cli', 'rclone']

interface Workload {
  name: 'small' | 'large'
  count: number
  size: number
  dir: string
}

interface Sample {
  tool: Tool
  workload: string
  rep: number
  seconds: number
  mbps: number
  /** s3rver's CPU seconds over the upload's wall seconds (1.0 = one full core). */
  serverCpu: number
}

export async function run(args: string[] = []): Promise<{ line: string; json: Record<string, unknown> }> {
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const reps = Math.max(1, Number(flag('--reps') ?? 3))
  for (const bin of [AWS, RCLONE]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install -y awscli rclone`)
  }
  const pressureAtStart = cpuPressure()
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-s3-'))
  const server = await startServer(path.join(work, 's3rver'))
  try {
    const workloads: Workload[] = [
      { name: 'small', count: 1000, size: MiB, dir: path.join(work, 'small') },
      { name: 'large', count: 4, size: 256 * MiB, dir: path.join(work, 'large') },
    ]
    for (const w of workloads) await makeWorkload(w)
    Object.assign(process.env, CREDENTIALS, { AWS_EC2_METADATA_DISABLED: 'true' })
    const rcloneConf = path.join(work, 'rclone.conf')
    await writeFile(
      rcloneConf,
      `[s3rver]\ntype = s3\nprovider = Other\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\nregion = us-east-1\nendpoint = ${server.endpoint}\nforce_path_style = true\n`,
    )
    const samples: Sample[] = []
    for (let rep = 1; rep <= reps; rep++) {
      const order = TOOLS.map((_, i) => TOOLS[(i + rep - 1) % TOOLS.length]!)
      for (const w of workloads) {
        for (const tool of order) {
          const prefix = `${tool.replace(' ', '-')}-${w.name}-${rep}`
          execFileSync('sync')
          const cpu0 = cpuSeconds(server.child.pid!)
          const t0 = performance.now()
          await upload(tool, w, prefix, server.endpoint, rcloneConf)
          const seconds = (performance.now() - t0) / 1000
          const serverCpu = (cpuSeconds(server.child.pid!) - cpu0) / seconds
          const mbps = (w.count * w.size) / seconds / 1e6
          samples.push({ tool, workload: w.name, rep, seconds, mbps, serverCpu })
          process.stderr.write(`  ${w.name} ${tool} rep ${rep}: ${mbps.toFixed(1)} MB/s, s3rver CPU ${(serverCpu * 100).toFixed(0)}%\n`)
          await rm(path.join(server.dir, BUCKET, prefix), { recursive: true, force: true })
        }
      }
    }
    const summary = Object.fromEntries(
      TOOLS.map((tool) => [
        tool,
        summarize(
          samples.filter((s) => s.tool === tool),
          workloads,
        ),
      ]),
    )
    const fmt = (t: Tool): string => summary[t]!.combinedMBps.toFixed(1)
    const line = `s3: ${fmt('adas-forge')} MB/s (aws cli ${fmt('aws cli')} MB/s, rclone ${fmt('rclone')} MB/s)`
    return {
      line,
      json: {
        cpuPressure: { atStart: pressureAtStart, atEnd: cpuPressure() },
        unit: 'MB/s (10^6 bytes/s), median of repetitions',
        repetitions: reps,
        workloads: workloads.map(({ name, count, size }) => ({ name, count, size, bytes: count * size })),
        peers: { 'aws cli': execFileSync(AWS, ['--version']).toString().trim(), rclone: execFileSync(RCLONE, ['version']).toString().split('\n')[0] },
        summary,
        samples,
      },
    }
  } finally {
    server.child.kill('SIGTERM')
    await new Promise((resolve) => server.child.once('exit', resolve))
    await rm(work, { recursive: true, force: true })
  }
}

function summarize(samples: Sample[], workloads: Workload[]): Record<string, number> {
  const out: Record<string, number> = {}
  let bytes = 0
  let seconds = 0
  for (const w of workloads) {
    const mine = samples.filter((s) => s.workload === w.name)
    const secs = median(mine.map((s) => s.seconds))
    out[`${w.name}MBps`] = (w.count * w.size) / secs / 1e6
    out[`${w.name}ServerCpu`] = median(mine.map((s) => s.serverCpu))
    bytes += w.count * w.size
    seconds += secs
  }
  out.combinedMBps = bytes / seconds / 1e6
  return out
}

async function upload(tool: Tool, w: Workload, prefix: string, endpoint: string, rcloneConf: string): Promise<void> {
  // No user config, and no AWS_CA_BUNDLE: rclone refuses to start with one (LoadCustomCABundleError), even for http.
  const { AWS_CA_BUNDLE: _ca, ...inherited } = process.env
  const env = { ...inherited, ...CREDENTIALS, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' }
  if (tool === 'adas-forge') {
    await uploadPrefix({ from: w.dir, to: `s3://${BUCKET}/${prefix}/`, options: { endpoint, forcePathStyle: true } })
  } else if (tool === 'aws cli') {
    await run$(
      AWS,
      ['s3', 'cp', '--recursive', '--only-show-errors', '--no-progress', '--endpoint-url', endpoint, w.dir, `s3://${BUCKET}/${prefix}/`],
      { env, maxBuffer: 1 << 24 },
    )
  } else {
    await run$(RCLONE, ['copy', '--config', rcloneConf, '--s3-no-check-bucket', w.dir, `s3rver:${BUCKET}/${prefix}`], { env, maxBuffer: 1 << 24 })
  }
}

async function makeWorkload(w: Workload): Promise<void> {
  await mkdir(w.dir, { recursive: true })
  const buf = Buffer.allocUnsafe(Math.min(w.size, 64 * MiB))
  for (let i = 0; i < w.count; i++) {
    const file = path.join(w.dir, `${String(i).padStart(4, '0')}.bin`)
    await writeFile(file, '')
    for (let off = 0; off < w.size; off += buf.length) {
      randomFillSync(buf)
      await writeFile(file, buf.subarray(0, Math.min(buf.length, w.size - off)), { flag: 'a' })
    }
  }
}

/** Share of the last 60 s in which some runnable task waited for a CPU (Linux PSI), or null where unavailable. */
function cpuPressure(): number | null {
  try {
    const m = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))
    return m ? Number(m[1]) / 100 : null
  } catch {
    return null
  }
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100)
}

async function startServer(dir: string): Promise<{ child: ChildProcess; endpoint: string; dir: string }> {
  await mkdir(dir, { recursive: true })
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 's3rver-server.ts')
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir, BUCKET], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /\{"port":(\d+)\}/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)))
  })
  return { child, endpoint: `http://127.0.0.1:${port}`, dir }
}
