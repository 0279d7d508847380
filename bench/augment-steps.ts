/**
 * augment-steps: where one frame's time goes, one thread, one frame of the augment benchmark's shard (its first
 * frame with a crop), each step repeated and its least CPU time kept: file read, PNG decode to raw, the crop-flip-resize
 * pass and the blur (WebAssembly SIMD, TypeScript; libvips' blur beside them), JPEG encode, labels, the whole frame in this thread, and the
 * whole frame through a one-worker pool (the difference is the hand-off to the worker and back).
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { augmentFrame, type FrameJob } from '../operators/augment/augment-frame.ts'
import { kittiText, moveObjects } from '../operators/augment/box-labels.ts'
import { planFrame, sensorGeometry } from '../operators/augment/frame-plan.ts'
import { FramePool } from '../operators/augment/frame-pool.ts'
import { parseRecipe } from '../operators/augment/recipe.ts'
import { gaussianBlur } from '../operators/augment/gaussian-blur.ts'
import { resizeWindow, toneOf } from '../operators/augment/resize-window.ts'
import { annotationsByFrame, frameObjects, readSourceShard } from '../operators/augment/source-shard.ts'
import { RECIPE, sourceShard } from './augment.ts'
import { intFlag } from './stats.ts'

/**
 * The least CPU time of `reps` runs, in ms, over every thread of this process (libvips' included): on a shared
 * machine wall time mostly measures the other jobs. A step on a worker thread (the pool) is counted too.
 */
async function best(reps: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  let min = Infinity
  for (let i = 0; i < reps; i++) {
    const t = process.cpuUsage()
    await fn()
    const used = process.cpuUsage(t)
    min = Math.min(min, (used.user + used.system) / 1000)
  }
  return Math.round(min * 100) / 100
}

/** `npm run bench -- augment-steps [--reps N]` */
export async function run(args: string[] = []): Promise<{ line: string; json: Record<string, unknown> }> {
  const reps = intFlag(args, '--reps', 20)
  sharp.concurrency(1)
  sharp.cache(false)
  const src = await readSourceShard(await sourceShard(500))
  const recipe = parseRecipe(RECIPE)
  const fr = src.frames.find((f) => planFrame(recipe, src.manifest.shard, f.frame).crop !== null)!
  const plan = planFrame(recipe, src.manifest.shard, fr.frame)
  const input = path.join(src.dir, ...fr.images.get('rgb')!)
  const file = await readFile(input)
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const raw = { data, width: info.width, height: info.height, channels: info.channels }
  const geo = sensorGeometry(plan, raw.width, raw.height, recipe.output)
  const tone = toneOf(plan.brightness, plan.contrast, plan.gamma)
  const resized = resizeWindow(raw, geo.window, geo.flip, geo.outW, geo.outH, tone)
  const fromRaw = () => sharp(resized.data, { raw: { width: resized.width, height: resized.height, channels: 3 } })
  const jpeg = { quality: 90, optimiseCoding: false, chromaSubsampling: '4:2:0' } as const
  const body = await fromRaw().blur(plan.blur!).jpeg(jpeg).toBuffer()
  const objects = await frameObjects(src, fr, annotationsByFrame(src.coco))
  const out = await mkdtemp(path.join(os.tmpdir(), 'augment-steps-'))
  const job: FrameJob = {
    shard: src.manifest.shard,
    frame: fr.frame,
    recipe,
    sensors: [{ name: 'rgb', kind: 'rgb', input, pixelFormat: 'png', output: path.join(out, 'rgb.jpg') }],
    labelSensor: 'rgb',
    objects,
    kittiOutput: path.join(out, 'label.txt'),
  }
  const pool = new FramePool({ workers: 1 })
  try {
    await pool.run(job) // the worker's start-up and first-frame compilation are not a frame's cost
    const ms = {
      readFile: await best(reps, () => readFile(input)),
      decodePngToRaw: await best(reps, () => sharp(file).removeAlpha().raw().toBuffer()),
      resizeWasm: await best(reps, () => resizeWindow(raw, geo.window, geo.flip, geo.outW, geo.outH, tone, { borrow: true })),
      resizeTypeScript: await best(reps, () => resizeWindow(raw, geo.window, geo.flip, geo.outW, geo.outH, tone, { wasm: false })),
      blurWasm: await best(reps, () => gaussianBlur(resized, plan.blur!)),
      blurTypeScript: await best(reps, () => gaussianBlur(resized, plan.blur!, { wasm: false })),
      blurLibvips: await best(reps, () => fromRaw().blur(plan.blur!).raw().toBuffer()),
      jpegFromRaw: await best(reps, () => fromRaw().jpeg(jpeg).toBuffer()),
      writeAndHash: await best(reps, async () => {
        await writeFile(path.join(out, 'x.jpg'), body)
        createHash('sha256').update(body).digest('hex')
      }),
      labels: await best(reps, () => kittiText(moveObjects(objects, geo.matrix, geo.outW, geo.outH, { minVisibility: 0.25, flip: plan.flip }))),
      frameInThread: await best(reps, () => augmentFrame(job)),
      frameThroughPool: await best(reps, () => pool.run(job)),
    }
    const line = `augment-steps: frame ${ms.frameInThread} CPU ms in thread, ${ms.frameThroughPool} through a 1-worker pool; resize ${ms.resizeWasm} (TypeScript ${ms.resizeTypeScript})`
    return { line, json: { frame: fr.frame, input, pngBytes: file.length, window: geo.window, flip: plan.flip, blur: plan.blur, reps, cpuMs: ms } }
  } finally {
    await pool.close()
    await rm(out, { recursive: true, force: true })
  }
}
