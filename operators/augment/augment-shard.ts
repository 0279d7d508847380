/**
 * The augmentation core: a generated shard in, an augmented shard out in the same layout (frames/, labels/kitti,
 * labels/coco.json, manifest.json last and atomically, recording the recipe), so later steps treat it like any
 * shard. Frames go through a worker pool; results are assembled in frame order, so the output does not depend on
 * the number of workers or the order frames finish in.
 */
import { createHash } from 'node:crypto'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { insideFolder, safeSegment } from '../../runtime/index.ts'
import type { TaskContext } from '../../runtime/index.ts'
import { COCO_CATEGORIES } from '../carla/labels/coco.ts'
import { throwIfAborted } from '../carla/generate/abort.ts'
import type { FrameJob, FrameResult, WrittenFile } from './augment-frame.ts'
import { projectionFromAttributes, transformProjection } from './calibration.ts'
import { FramePool } from './frame-pool.ts'
import { parseRecipe, type Recipe, type RecipeInput } from './recipe.ts'
import { ShardProgress } from './shard-progress.ts'
import { annotationsByFrame, frameObjects, readSourceShard, type SourceShard } from './source-shard.ts'

export interface AugmentShardItem {
  /** A generated shard's folder (it must have its manifest.json). */
  dir: string
  /** Parent folder; the augmented shard goes to <outDir>/<shard>. */
  outDir: string
  recipe?: RecipeInput
}

export interface AugmentResult {
  shard: string
  dir: string
  source: string
  frames: number
  labels: number
  /** Boxes dropped under minVisibility or outside the image. */
  dropped: number
  /** Boxes recomputed from a segmentation image. */
  tightened: number
  bytes: number
  /** Frames a previous attempt had already written completely, taken as they were (shard-progress.ts). */
  resumed: number
}

export interface AugmentEnv {
  signal?: AbortSignal
  log?: TaskContext['log']
  progress?(done: number, total: number | null, unit: string): void
  /** Worker threads (default: cores) and libvips threads per image (default 1); ignored when `pool` is given. */
  workers?: number
  vipsThreads?: number
  /** False: the TypeScript passes instead of WebAssembly SIMD (FramePoolOptions.wasm); ignored when `pool` is given. */
  wasm?: boolean
  pool?: FramePool
}

/** Augments each shard in turn through one pool; progress counts frames over all of them. */
export async function augmentShards(items: readonly AugmentShardItem[], env: AugmentEnv = {}): Promise<AugmentResult[]> {
  const recipes = items.map((it) => parseRecipe(it.recipe)) // every recipe checked before any work
  const pool = env.pool ?? new FramePool({ workers: env.workers, vipsThreads: env.vipsThreads, wasm: env.wasm, log: env.log })
  try {
    const shards = await Promise.all(items.map((it) => readSourceShard(it.dir)))
    const total = shards.reduce((n, s) => n + s.frames.length, 0)
    let done = 0
    const out: AugmentResult[] = []
    for (let i = 0; i < items.length; i++) {
      out.push(await augmentOne(shards[i]!, items[i]!.outDir, recipes[i]!, pool, env, () => env.progress?.(++done, total, 'frames')))
    }
    return out
  } finally {
    if (!env.pool) await pool.close()
  }
}

export async function augmentShard(item: AugmentShardItem, env: AugmentEnv = {}): Promise<AugmentResult> {
  return (await augmentShards([item], env))[0]!
}

async function augmentOne(
  src: SourceShard,
  outParent: string,
  recipe: Recipe,
  pool: FramePool,
  env: AugmentEnv,
  tick: () => void,
): Promise<AugmentResult> {
  const shard = safeSegment(src.manifest.shard, `shard name in ${src.dir}/manifest.json`)
  // The name was checked not to leave outParent.
  const dir = insideFolder(outParent, shard)
  if (path.resolve(dir) === path.resolve(src.dir)) throw new Error(`augment output ${dir} is the source shard itself`)
  // A previous attempt's complete frames are kept; without its journal the folder is emptied, so no stale frame stays.
  const progress = await ShardProgress.open(
    dir,
    { sourceManifestSha256: sha256(JSON.stringify(src.manifest)), recipeSha256: sha256(JSON.stringify(recipe)) },
    src.frames.map((f) => f.frame),
  )
  await mkdir(insideFolder(dir, 'labels', 'kitti'), { recursive: true })
  for (const s of src.sensors) await mkdir(insideFolder(dir, 'frames', s.name), { recursive: true })
  env.log?.(`augmenting ${shard}`, { frames: src.frames.length, resumed: progress.done.size, from: src.dir, to: dir, seed: recipe.seed })

  const anns = annotationsByFrame(src.coco)
  const extFor = new Map(
    src.sensors.map((s) => [s.name, s.kind === 'rgb' ? (recipe.output.format === 'jpeg' ? 'jpg' : 'png') : s.kind === 'other' ? null : 'png']),
  )
  const jobFor = async (i: number): Promise<FrameJob> => {
    const fr = src.frames[i]!
    return {
      shard,
      frame: fr.frame,
      recipe,
      sensors: src.sensors.map((s) => {
        const seg = fr.images.get(s.name)!
        const ext = extFor.get(s.name) ?? seg[2]!.slice(seg[2]!.lastIndexOf('.') + 1)
        return {
          ...s,
          input: insideFolder(src.dir, ...seg),
          output: insideFolder(dir, 'frames', s.name, safeSegment(`${fr.stem}.${ext}`, 'frame file name')),
        }
      }),
      labelSensor: src.labelSensor,
      objects: await frameObjects(src, fr, anns),
      kittiOutput: fr.kitti ? insideFolder(dir, 'labels', 'kitti', `${fr.stem}.txt`) : null,
    }
  }
  const results: FrameResult[] = new Array(src.frames.length)
  for (const [i, r] of progress.done) ((results[i] = r), tick())
  const todo = src.frames.map((_, i) => i).filter((i) => !progress.done.has(i))
  let next = 0
  // Twice the pool: a worker finding its next frame already prepared never waits on the main thread.
  const lanes = Array.from({ length: Math.min(todo.length, pool.size * 2) }, async () => {
    while (next < todo.length) {
      throwIfAborted(env.signal)
      const i = todo[next++]!
      results[i] = await pool.run(await jobFor(i))
      await progress.record(i, results[i])
      tick()
    }
  })
  try {
    // Every lane settles before this returns: a frame finishing after an abort is still journaled, never half of it.
    const failed = (await Promise.allSettled(lanes)).find((l) => l.status === 'rejected')
    if (failed) throw failed.reason
    throwIfAborted(env.signal)
    const out = await finish(src, dir, shard, recipe, results)
    await progress.remove()
    return { ...out, resumed: progress.done.size }
  } finally {
    await progress.close()
  }
}

async function finish(src: SourceShard, dir: string, shard: string, recipe: Recipe, results: FrameResult[]): Promise<Omit<AugmentResult, 'resumed'>> {
  const rel = (abs: string): string => path.relative(dir, abs).split(path.sep).join('/')
  const files: WrittenFile[] = results.flatMap((r) => r.files.map((f) => ({ ...f, path: rel(f.path) })))
  const sourceObjects = results.reduce((n, r) => n + r.sourceObjects, 0)
  const categoryId = new Map(COCO_CATEGORIES.map((c) => [c.name as string, c.id]))
  const coco = {
    info: { description: 'adas-forge augmented shard', source: src.manifest.shard, seed: recipe.seed },
    images: [] as object[],
    annotations: [] as object[],
    categories: COCO_CATEGORIES,
  }
  const ext = recipe.output.format === 'jpeg' ? 'jpg' : 'png'
  let labels = 0,
    tightened = 0
  results.forEach((r, i) => {
    tightened += r.tightened
    if (!src.labelSensor) return
    const imageId = i + 1
    coco.images.push({
      id: imageId,
      file_name: `frames/${src.labelSensor}/${src.frames[i]!.stem}.${ext}`,
      width: r.width,
      height: r.height,
      frame: r.frame,
    })
    for (const o of r.objects) {
      const w = o.box.x2 - o.box.x1,
        h = o.box.y2 - o.box.y1
      coco.annotations.push({
        id: ++labels,
        image_id: imageId,
        category_id: o.categoryId ?? categoryId.get(o.cls) ?? 6,
        bbox: [round(o.box.x1), round(o.box.y1), round(w), round(h)],
        area: round(w * h),
        iscrowd: 0,
        ...(o.actorId !== undefined ? { carla_actor_id: o.actorId } : {}),
        visibility: round(o.cocoVisibility ?? 1),
        kept_fraction: round(o.visibility),
      })
    }
  })
  const cocoText = JSON.stringify(coco)
  await writeFile(insideFolder(dir, 'labels', 'coco.json'), cocoText)
  files.push({ path: 'labels/coco.json', bytes: Buffer.byteLength(cocoText), sha256: sha256(cocoText) })
  files.sort((a, b) => a.path.localeCompare(b.path))
  const bytes = files.reduce((n, f) => n + f.bytes, 0)
  const { files: _f, frames: _fr, labels: _l, bytes: _b, ...rest } = src.manifest
  // The label camera's projection, moved with each frame's pixels (calibration.ts); null without its attributes.
  const sourceP2 = projectionFromAttributes(src.manifest.sensors.find((s) => s.name === src.labelSensor)?.attributes)
  const body = JSON.stringify(
    {
      ...rest,
      shard,
      sensors: src.manifest.sensors.map((s) =>
        s.kind === 'rgb' ? { ...s, pixelFormat: recipe.output.format } : s.kind === 'other' ? s : { ...s, pixelFormat: 'png' },
      ),
      augment: {
        source: src.dir,
        sourceManifestSha256: sha256(JSON.stringify(src.manifest)),
        recipe,
        seed: recipe.seed,
        sourceP2: sourceP2?.map(round6) ?? null,
      },
      frames: results.map((r, i) => ({
        frame: r.frame,
        timestamp: src.frames[i]!.timestamp,
        objects: r.objects.length,
        ops: r.applied,
        matrix: r.matrix?.map(round6) ?? null,
        P2: sourceP2 && r.matrix ? transformProjection(sourceP2, r.matrix, r.applied.includes('flip')).map(round6) : null,
      })),
      labels,
      bytes,
      files,
    },
    null,
    2,
  )
  const tmp = insideFolder(dir, 'manifest.json.tmp')
  await writeFile(tmp, body)
  await rename(tmp, insideFolder(dir, 'manifest.json'))
  return {
    shard,
    dir,
    source: src.dir,
    frames: results.length,
    labels,
    dropped: sourceObjects - labels,
    tightened,
    bytes: bytes + Buffer.byteLength(body),
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')
const round = (n: number): number => Math.round(n * 100) / 100
const round6 = (n: number): number => Math.round(n * 1e6) / 1e6
