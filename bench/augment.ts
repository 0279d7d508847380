/**
 * augment: frames per second through the augment operator's core and worker pool (flip + crop/resize + brightness
 * + blur, JPEG out, labels moved too) on 500 1280×720 PNG frames from carla-lite, against the same per-frame choices
 * applied by OpenCV 4.6 (Debian's python3-opencv) with one process per core, on the same files, in the same run.
 * Both sides are timed from start to last file written, start-up included (worker threads, Python processes).
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { generateShard } from '../operators/carla/generate/carla-generate.ts'
import { augmentShard } from '../operators/augment/augment-shard.ts'
import { planFrame, sensorGeometry } from '../operators/augment/frame-plan.ts'
import { parseRecipe, type RecipeInput } from '../operators/augment/recipe.ts'
import { readSourceShard } from '../operators/augment/source-shard.ts'
import { medianOf } from './stats.ts'

const W = 1280
const H = 720
const FRAMES = 500
const PYTHON = '/usr/bin/python3'
const PEER = fileURLToPath(new URL('./peers/augment_opencv.py', import.meta.url))
export const RECIPE: RecipeInput = {
  seed: 1,
  ops: {
    flip: { p: 0.5 },
    crop: { p: 1, scale: [0.6, 0.95] },
    brightness: { p: 1, range: [-0.2, 0.2] },
    blur: { p: 1, sigma: [0.5, 1.5] },
  },
  output: { format: 'jpeg', quality: 90, width: W, height: H },
  labels: { minVisibility: 0.25 },
}

/** The source shard is generated once and kept in the temp dir: carla-lite takes about a minute for it. */
export async function sourceShard(frames: number): Promise<string> {
  const parent = path.join(os.tmpdir(), `adas-forge-bench-augment-${W}x${H}-${frames}`)
  const dir = path.join(parent, 'bench-augment')
  if (existsSync(path.join(dir, 'manifest.json'))) return dir
  const camera = { image_size_x: W, image_size_y: H, fov: 90 }
  console.error(`augment bench: generating ${frames} ${W}×${H} frames with carla-lite into ${parent} (once)`)
  const res = await generateShard({
    scenario: {
      name: 'bench-augment',
      map: 'Town03',
      weather: 'ClearNoon',
      frames,
      warmupTicks: 3,
      format: 'png',
      seed: 3,
      npcs: { vehicles: 20, pedestrians: 10 },
      sensors: [{ name: 'rgb', blueprint: 'sensor.camera.rgb', attributes: camera }],
    },
    outDir: parent,
  })
  return res.dir
}

/** The recipe's own choices per frame, written for the OpenCV script so both sides do the same work. */
async function opencvPlan(src: string, out: string): Promise<string> {
  const shard = await readSourceShard(src)
  const recipe = parseRecipe(RECIPE)
  const frames = shard.frames.map((fr) => {
    const plan = planFrame(recipe, shard.manifest.shard, fr.frame)
    const geo = sensorGeometry(plan, W, H, recipe.output)
    const { x, y, w, h } = geo.window
    // The window is in the flipped image; OpenCV flips first, so it can use it as is.
    return {
      input: path.join(src, ...fr.images.get('rgb')!),
      output: path.join(out, `${fr.stem}.jpg`),
      flip: plan.flip,
      window: [x, y, w, h],
      brightness: plan.brightness,
      blur: plan.blur,
    }
  })
  const file = path.join(out, 'plan.json')
  await writeFile(file, JSON.stringify({ quality: recipe.output.quality, width: W, height: H, frames }))
  return file
}

function flushDisk(): void {
  try {
    execFileSync('sync')
  } catch {
    // no sync binary: noisier samples
  }
}

/** Frames per second, and CPU milliseconds per frame (all threads), which the machine's load changes less. */
interface Sample {
  fps: number
  cpuMs: number
}

async function ours(src: string, frames: number, workers: number, vipsThreads: number): Promise<Sample> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'augment-bench-out-'))
  try {
    flushDisk()
    const cpu = process.cpuUsage()
    const t = performance.now()
    const res = await augmentShard({ dir: src, outDir: out, recipe: RECIPE }, { workers, vipsThreads })
    const s = (performance.now() - t) / 1000
    const used = process.cpuUsage(cpu)
    if (res.frames !== frames) throw new Error(`augmented ${res.frames} of ${frames} frames`)
    return { fps: frames / s, cpuMs: (used.user + used.system) / 1000 / frames }
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}

async function opencv(src: string, frames: number, procs: number): Promise<Sample> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'augment-bench-cv-'))
  try {
    const plan = await opencvPlan(src, out)
    flushDisk()
    const t = performance.now()
    const { stdout } = await promisify(execFile)(PYTHON, [PEER, plan, out, String(procs)])
    const s = (performance.now() - t) / 1000
    const written = (await readdir(out)).filter((f) => f.endsWith('.jpg')).length
    const reply = JSON.parse(stdout) as { frames: number; cpu_s: number }
    if (reply.frames !== frames || written !== frames) throw new Error(`OpenCV wrote ${written} of ${frames} frames`)
    return { fps: frames / s, cpuMs: (reply.cpu_s * 1000) / frames }
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}

/** `npm run bench -- augment [--reps N] [--frames N]` */
export async function run(args: string[] = []): Promise<{ line: string; json: Record<string, unknown> }> {
  const arg = (name: string, dflt: number): number => {
    const i = args.indexOf(name)
    return i >= 0 ? Number(args[i + 1]) : dflt
  }
  const reps = arg('--reps', 3)
  const frames = arg('--frames', FRAMES)
  try {
    execFileSync(PYTHON, ['-c', 'import cv2'], { stdio: 'ignore' })
  } catch {
    throw new Error(`${PYTHON} cannot import cv2: apt-get install -y python3-opencv`)
  }
  const cv = execFileSync(PYTHON, ['-c', 'import cv2; print(cv2.__version__)']).toString().trim()
  const cores = os.availableParallelism()
  const src = await sourceShard(frames)
  await mkdir(path.dirname(src), { recursive: true })
  const samples = { ours: [] as Sample[], opencv: [] as Sample[], oursOneWorker: [] as Sample[] }
  // Warm-up of each side (page cache, sharp and cv2 loaded), then alternating repetitions.
  await ours(src, frames, cores, 1)
  await opencv(src, frames, cores)
  for (let r = 0; r < reps; r++) {
    samples.ours.push(await ours(src, frames, cores, 1))
    samples.opencv.push(await opencv(src, frames, cores))
    // The alternative spread: one worker, libvips threads on every core.
    samples.oursOneWorker.push(await ours(src, frames, 1, cores))
  }
  const med = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, medianOf(xs)])) as Record<keyof typeof samples, Sample>
  const f1 = (n: number): string => n.toFixed(1)
  return {
    line: `augment: ${f1(med.ours.fps)} frames/s (OpenCV ${f1(med.opencv.fps)} frames/s)`,
    json: {
      frames,
      width: W,
      height: H,
      reps,
      cores,
      recipe: RECIPE,
      opencv: cv,
      source: src,
      medians: med,
      samples,
      configs: {
        ours: `${cores} worker threads × sharp.concurrency(1)`,
        oursOneWorker: `1 worker thread × sharp.concurrency(${cores})`,
        opencv: `${cores} processes × cv2.setNumThreads(1)`,
      },
    },
  }
}
