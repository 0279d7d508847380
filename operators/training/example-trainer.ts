/**
 * AN EXAMPLE TRAINER, NOT A DETECTOR. It shows the trainer protocol end to end on a real pulled dataset: it reads
 * the KITTI or COCO labels, counts boxes per class, "fits" a per-class prior (class frequencies and mean box
 * size), writes that as model.json and prints the result line. It learns nothing from the pixels.
 *
 *   node --import tsx operators/training/example-trainer.ts --dataset DIR --output DIR [--tag NAME@vN]
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

export interface ClassStats {
  boxes: number
  meanWidth: number
  meanHeight: number
}

interface Box {
  cls: string
  w: number
  h: number
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name))
  return out.sort()
}

function cocoBoxes(json: {
  images?: unknown[]
  annotations?: Array<{ category_id: number; bbox: number[] }>
  categories?: Array<{ id: number; name: string }>
}): Box[] {
  const names = new Map((json.categories ?? []).map((c) => [c.id, c.name]))
  return (json.annotations ?? []).map((a) => ({ cls: names.get(a.category_id) ?? `category_${a.category_id}`, w: a.bbox[2]!, h: a.bbox[3]! }))
}

function kittiBoxes(text: string): Box[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const f = l.trim().split(/\s+/)
      return { cls: f[0]!, w: Number(f[6]) - Number(f[4]), h: Number(f[7]) - Number(f[5]) }
    })
    .filter((b) => b.cls !== 'DontCare')
}

/** Boxes and frame count from every shard's labels: COCO files when there are any, KITTI label files otherwise. */
export async function readLabels(
  dataset: string,
  onFile?: (done: number, total: number) => void,
): Promise<{ frames: number; boxes: Box[]; format: 'coco' | 'kitti' }> {
  const files = await walk(dataset)
  const coco = files.filter((f) => path.basename(f) === 'coco.json' && path.basename(path.dirname(f)) === 'labels')
  const kitti = files.filter((f) => f.endsWith('.txt') && path.basename(path.dirname(f)) === 'kitti')
  const use = coco.length ? coco : kitti
  const boxes: Box[] = []
  let frames = 0
  for (const [i, f] of use.entries()) {
    const text = await readFile(f, 'utf8')
    if (coco.length) {
      const json = JSON.parse(text) as Parameters<typeof cocoBoxes>[0]
      frames += json.images?.length ?? 0
      boxes.push(...cocoBoxes(json))
    } else {
      frames++
      boxes.push(...kittiBoxes(text))
    }
    onFile?.(i + 1, use.length)
  }
  return { frames, boxes, format: coco.length ? 'coco' : 'kitti' }
}

export function boxStatistics(boxes: readonly Box[]): Record<string, ClassStats> {
  const acc = new Map<string, { n: number; w: number; h: number }>()
  for (const b of boxes) {
    const a = acc.get(b.cls) ?? { n: 0, w: 0, h: 0 }
    acc.set(b.cls, { n: a.n + 1, w: a.w + b.w, h: a.h + b.h })
  }
  const round = (x: number): number => Math.round(x * 100) / 100
  return Object.fromEntries(
    [...acc].sort(([a], [b]) => (a < b ? -1 : 1)).map(([cls, a]) => [cls, { boxes: a.n, meanWidth: round(a.w / a.n), meanHeight: round(a.h / a.n) }]),
  )
}

/** The "model": each class's frequency, its mean box, and the entropy of the class prior in bits. */
export function fitPrior(stats: Record<string, ClassStats>): { prior: Record<string, number>; entropyBits: number } {
  const total = Object.values(stats).reduce((s, c) => s + c.boxes, 0)
  const prior = Object.fromEntries(Object.entries(stats).map(([cls, c]) => [cls, total ? c.boxes / total : 0]))
  const entropyBits = Object.values(prior).reduce((s, p) => s - (p > 0 ? p * Math.log2(p) : 0), 0)
  return { prior, entropyBits: Math.round(entropyBits * 1e4) / 1e4 }
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}

async function main(argv: string[]): Promise<void> {
  const dataset = arg(argv, '--dataset')
  const output = arg(argv, '--output')
  if (!dataset || !output) throw new Error('usage: example-trainer --dataset DIR --output DIR [--tag NAME@vN]')
  const labels = await readLabels(dataset, (done, total) => console.log(JSON.stringify({ type: 'progress', done, total, unit: 'label files' })))
  const stats = boxStatistics(labels.boxes)
  const { prior, entropyBits } = fitPrior(stats)
  await mkdir(output, { recursive: true })
  const model = {
    kind: 'example per-class box prior (not a detector)',
    dataset: arg(argv, '--tag') ?? null,
    labelFormat: labels.format,
    frames: labels.frames,
    prior,
    classes: stats,
  }
  await writeFile(path.join(output, 'model.json'), JSON.stringify(model, null, 2) + '\n')
  console.log(`read ${labels.frames} frames and ${labels.boxes.length} boxes (${labels.format}); ${Object.keys(stats).length} classes`)
  const metrics: Record<string, number> = { frames: labels.frames, boxes: labels.boxes.length, class_entropy_bits: entropyBits }
  for (const [cls, c] of Object.entries(stats))
    Object.assign(metrics, { [`boxes.${cls}`]: c.boxes, [`mean_width.${cls}`]: c.meanWidth, [`mean_height.${cls}`]: c.meanHeight })
  console.log(
    JSON.stringify({ type: 'training_result', metrics, params: { trainer: 'example-trainer', label_format: labels.format }, model: 'model.json' }),
  )
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message)
    process.exit(1)
  })
}
